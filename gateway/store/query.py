"""Statement helpers shared by the data-access modules."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import BindParameter, Connection, Row, Select, bindparam, func, select

from gateway.store.pagination import Page, SortKey, after_condition

LIKE_ESCAPE = "\\"
# Lookup statements under row rules are built once per caller and kept for this many recent callers
# (about 20 KiB each): the rules bind the caller's id and region as values.
CALLERS = 256


def paged(stmt: Select[Any], keys: Sequence[SortKey], page: Page) -> Select[Any]:
    """`stmt` ordered by `keys`, after the page's cursor, one row more than asked (hasNextPage)."""
    if page.after is not None:
        stmt = stmt.where(after_condition(keys, page.after))
    return stmt.order_by(*(key.order_by() for key in keys)).limit(page.first + 1)


def count(connection: Connection, stmt: Select[Any]) -> int:
    """How many rows `stmt` selects."""
    return connection.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()


def rows(connection: Connection, stmt: Select[Any], **parameters: Any) -> list[Row[Any]]:
    """Every row of `stmt`, with values for its named parameters."""
    return list(connection.execute(stmt, parameters).all())


def keys() -> BindParameter[Any]:
    """The `keys` parameter of a lookup built once: `column.in_(keys())`, then `rows(..., keys=ids)`.

    A statement built once is neither rebuilt nor keyed for the compiled cache again on each request: that
    was about a sixth of a deal page's CPU on SQLite (docs/performance.md).
    """
    return bindparam("keys", expanding=True)


def contains_pattern(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, with LIKE's wildcards escaped."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
