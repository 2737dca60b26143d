"""What a workflow step reads inside its transaction, under the caller's row rules.

A deal about to change is read `FOR UPDATE` on PostgreSQL, so every step of the workflow locks
the deal before its approvals (one lock order, no deadlocks) and concurrent steps queue on it.
SQLite needs no row lock: its writers are serialised by BEGIN IMMEDIATE. Where writes are journaled
(Databricks), the journal claims the deal with a compare-and-set when the step's changes are applied.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import Connection, Row, Select, Table, select

from auth.principal import Principal
from auth.rows import visible_deals, visible_reference, visible_scoping_requests
from gateway.core.errors import NotFound
from gateway.core.tables import deal_approvals, deal_scoping_requests, deals
from gateway.store import journal as journals

LOCKING_DIALECTS = frozenset({"postgresql"})


def _locked(connection: Connection, stmt: Select[Any], of: Table | None = None) -> Select[Any]:
    return stmt.with_for_update(of=of) if connection.dialect.name in LOCKING_DIALECTS else stmt


def deal_for_change(connection: Connection, *, principal: Principal, deal_id: str, field: str) -> Row[Any]:
    """The deal's row, locked; NOT_FOUND naming `field` when it does not exist or is hidden."""
    stmt = select(deals).where(deals.c.id == deal_id, visible_deals(principal))
    return _deal_locked(connection, stmt, "No deal with this id.", field)


def deal_of_approval(connection: Connection, *, principal: Principal, approval_id: str) -> Row[Any]:
    """The deal of an approval, locked like `deal_for_change`; NOT_FOUND when either is hidden."""
    joined = deals.join(deal_approvals, deal_approvals.c.deal_id == deals.c.id)
    stmt = (select(deals).select_from(joined)
            .where(deal_approvals.c.id == approval_id, visible_deals(principal)))
    return _deal_locked(connection, stmt, "No approval with this id.", "approvalId")


def _deal_locked(connection: Connection, stmt: Select[Any], missing: str, field: str) -> Row[Any]:
    row = connection.execute(_locked(connection, stmt, of=deals)).first()  # the deal only, not joined rows
    if row is None:
        raise NotFound(missing, field=field)
    journal = journals.of(connection)
    if journal is not None:  # no row locks without transactions: the journal claims the deal
        journal.lock(connection, row, field)
    return row


def approval_of(connection: Connection, *, principal: Principal, approval_id: str) -> Row[Any]:
    """An approval of a deal the caller may see; NOT_FOUND otherwise."""
    joined = deal_approvals.join(deals, deals.c.id == deal_approvals.c.deal_id)
    stmt = select(deal_approvals).select_from(joined).where(
        deal_approvals.c.id == approval_id, visible_deals(principal))
    row = connection.execute(stmt).first()
    if row is None:
        raise NotFound("No approval with this id.", field="approvalId")
    return row


def approvals_of(connection: Connection, *, deal_id: str, statuses: Collection[str] | None = None,
                 round: int | None = None) -> list[Row[Any]]:
    """The deal's approvals (in `statuses`, of one round, if given), in chain order."""
    a = deal_approvals
    stmt = select(a).where(a.c.deal_id == deal_id)
    if statuses is not None:
        stmt = stmt.where(a.c.status.in_(statuses))
    if round is not None:
        stmt = stmt.where(a.c.round == round)
    return list(connection.execute(stmt.order_by(a.c.round, a.c.sequence)).all())


def scoping_for_change(connection: Connection, *, principal: Principal, request_id: str) -> Row[Any]:
    """The scoping request's row, locked; NOT_FOUND when it does not exist or is hidden."""
    r = deal_scoping_requests
    stmt = select(r).where(r.c.id == request_id, visible_scoping_requests(principal))
    row = connection.execute(_locked(connection, stmt)).first()
    if row is None:
        raise NotFound("No scoping request with this id.", field="id")
    return row


def require_reference(connection: Connection, *, principal: Principal, table: Table, row_id: str,
                      field: str) -> None:
    """NOT_FOUND naming `field` unless the advertiser or agency exists and is visible."""
    stmt = select(table.c.id).where(table.c.id == row_id, visible_reference(principal))
    if connection.execute(stmt).first() is None:
        raise NotFound(f"{field} names no known record.", field=field)
