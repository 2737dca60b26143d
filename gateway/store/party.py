"""Data access for advertisers and agencies: reference data every role may read."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Row, Select, Table, func, select

from auth.principal import Principal
from auth.rows import visible_reference
from gateway.core.ids import new_id
from gateway.store import query
from gateway.store.audit import Actor
from gateway.store.pagination import Page, SortKey
from gateway.store.writer import Writer


def get_by_ids(
    connection: Connection, *, principal: Principal, table: Table, ids: Sequence[str]
) -> list[Row[Any]]:
    """Rows of `table` with the given ids."""
    return query.rows(connection, _by_ids(principal, table), keys=ids)


@lru_cache(maxsize=query.CALLERS)
def _by_ids(principal: Principal, table: Table) -> Select[Any]:
    return searched(principal, table, None).where(table.c.id.in_(query.keys()))


def sort_keys(table: Table) -> list[SortKey]:
    """Name order, id as the tie-breaker."""
    return [SortKey(table.c.name, descending=False), SortKey(table.c.id, descending=False)]


def searched(principal: Principal, table: Table, search: str | None) -> Select[Any]:
    """The rows of `table` the caller may see, or those whose name contains `search` (any case)."""
    stmt = select(table).where(visible_reference(principal))
    if search:
        pattern = query.contains_pattern(search.lower())
        stmt = stmt.where(func.lower(table.c.name).like(pattern, escape=query.LIKE_ESCAPE))
    return stmt


def get_page(
    connection: Connection, *, principal: Principal, table: Table, search: str | None, page: Page
) -> list[Row[Any]]:
    """One page of `table` by name."""
    stmt = searched(principal, table, search)
    return query.rows(connection, query.paged(stmt, sort_keys(table), page))


def count(connection: Connection, *, principal: Principal, table: Table, search: str | None) -> int:
    """How many rows match `search`."""
    return query.count(connection, searched(principal, table, search))


def create(connection: Connection, *, actor: Actor, table: Table, values: dict[str, Any]) -> dict[str, Any]:
    """Insert an advertiser or agency (audited); returns the new row."""
    row = {"id": new_id(), **values, "created_at": actor.at, "updated_at": actor.at}
    Writer(connection, actor).insert(table, row)
    return row
