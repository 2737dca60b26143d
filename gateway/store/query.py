"""Statement helpers shared by the data-access modules."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Row, Select, func, select

from gateway.pagination import Page, SortKey, after_condition

LIKE_ESCAPE = "\\"


def paged(stmt: Select[Any], keys: Sequence[SortKey], page: Page) -> Select[Any]:
    """`stmt` ordered by `keys`, after the page's cursor, one row more than asked (hasNextPage)."""
    if page.after is not None:
        stmt = stmt.where(after_condition(keys, page.after))
    return stmt.order_by(*(key.order_by() for key in keys)).limit(page.first + 1)


def count(connection: Connection, stmt: Select[Any]) -> int:
    """How many rows `stmt` selects."""
    return connection.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()


def rows(connection: Connection, stmt: Select[Any]) -> list[Row[Any]]:
    """Every row of `stmt`."""
    return list(connection.execute(stmt).all())


def contains_pattern(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, with LIKE's wildcards escaped."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
