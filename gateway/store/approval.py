"""Data access for approvals read on their own: by id (node) and the caller's queue."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Row, Select, select

from auth.principal import Principal
from auth.rows import decidable_approvals, visible_deals
from gateway.core.tables import deal_approvals, deals, users
from gateway.store import query
from gateway.store.children import with_user
from gateway.store.pagination import TIMESTAMP, Page, SortKey

QUEUE_KEYS = [
    SortKey(deal_approvals.c.activated_at, descending=False, codec=TIMESTAMP),
    SortKey(deal_approvals.c.id, descending=False),
]


def _visible(principal: Principal) -> Select[Any]:
    a = deal_approvals
    stmt = with_user(a, a.c.decided_by, outer=True).join(deals, deals.c.id == a.c.deal_id)
    return stmt.where(visible_deals(principal))


def get_by_ids(connection: Connection, *, principal: Principal, ids: Sequence[str]) -> list[Row[Any]]:
    """The approvals among `ids` whose deal the caller may see."""
    return query.rows(connection, _by_ids(principal), keys=ids)


@lru_cache(maxsize=query.CALLERS)
def _by_ids(principal: Principal) -> Select[Any]:
    return _visible(principal).where(deal_approvals.c.id.in_(query.keys()))


def queue(principal: Principal) -> Select[Any]:
    """Approvals the caller may decide now."""
    return _visible(principal).where(decidable_approvals(principal))


def get_queue_page(connection: Connection, *, principal: Principal, page: Page) -> list[Row[Any]]:
    """One page of the caller's approval queue, oldest first."""
    return query.rows(connection, query.paged(queue(principal), QUEUE_KEYS, page))


def count_queue(connection: Connection, *, principal: Principal) -> int:
    """How many approvals wait on the caller."""
    return query.count(connection, queue(principal))


def decision_of(connection: Connection, *, principal: Principal,
                approval_id: str) -> tuple[str, str | None] | None:
    """(status, the decider's display name) of an approval of a deal the caller may see; None otherwise."""
    a, u = deal_approvals, users
    joined = a.join(deals, deals.c.id == a.c.deal_id).outerjoin(u, u.c.id == a.c.decided_by)
    stmt = (select(a.c.status, u.c.display_name).select_from(joined)
            .where(a.c.id == approval_id, visible_deals(principal)))
    row = connection.execute(stmt).first()
    return None if row is None else (str(row.status), row.display_name)
