"""Data access for `deal_scoping_requests`, always under the caller's row rules."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Row, Select, select

from auth.principal import Principal
from auth.rows import visible_scoping_requests
from gateway.core.tables import deal_scoping_requests as requests
from gateway.store import query
from gateway.store.pagination import TIMESTAMP, Page, SortKey

SORT_KEYS = [
    SortKey(requests.c.created_at, descending=True, codec=TIMESTAMP),
    SortKey(requests.c.id, descending=True),
]


def visible(principal: Principal, statuses: Sequence[str] = ()) -> Select[Any]:
    """Scoping requests the caller may see, optionally of some statuses."""
    stmt = select(requests).where(visible_scoping_requests(principal))
    return stmt.where(requests.c.status.in_(statuses)) if statuses else stmt


def get_by_ids(connection: Connection, *, principal: Principal, ids: Sequence[str]) -> list[Row[Any]]:
    """The visible requests among `ids`."""
    return query.rows(connection, _by(principal, "id"), keys=ids)


def get_by_deal_ids(
    connection: Connection, *, principal: Principal, deal_ids: Sequence[str]
) -> list[Row[Any]]:
    """The visible requests converted into the given deals."""
    return query.rows(connection, _by(principal, "converted_deal_id"), keys=deal_ids)


@lru_cache(maxsize=query.CALLERS)
def _by(principal: Principal, column: str) -> Select[Any]:
    return visible(principal).where(requests.c[column].in_(query.keys()))


def get_page(
    connection: Connection, *, principal: Principal, statuses: Sequence[str], page: Page
) -> list[Row[Any]]:
    """One page of visible requests, newest first."""
    return query.rows(connection, query.paged(visible(principal, statuses), SORT_KEYS, page))


def count(connection: Connection, *, principal: Principal, statuses: Sequence[str]) -> int:
    """How many visible requests have one of `statuses` (any, when empty)."""
    return query.count(connection, visible(principal, statuses))
