"""Service levels of a PENDING stage, acted on by the scheduler (gateway/notify/scheduler.py), by the system.

At its due time minus `remind_before_hours` its approvers are reminded; at its due time it escalates: an
ESCALATED action by the system user, `escalated_at` set, the `escalate_to` role's users told, a deal event.
Each happens once per stage across workers and replicas: the stage's `reminded_at` / `escalated_at` is set by
a compare-and-set in the same transaction (or journaled operation) as what it causes, so of two schedulers
acting on one stage at once, one changes it and the other writes nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, Row, select

from auth.principal import Principal
from gateway.core.roles import Role
from gateway.core.tables import deal_approvals
from gateway.store import system_user
from gateway.store.audit import Actor
from gateway.store.writer import Writer
from gateway.workflow import approval, notices, records

SYSTEM = Principal(user_id=system_user.SYSTEM_USER_ID, sub=system_user.SYSTEM_SUB,
                   email="system@deal-desk.invalid", name="Deal Desk (system)", roles=frozenset({Role.ADMIN}))
"""Who the scheduler reads as: every deal."""


def due_work(connection: Connection, *, now: dt.datetime, limit: int = 200) -> list[tuple[str, str]]:
    """(approval id, "escalate" or "remind") for the PENDING stages whose time has come, oldest due first."""
    a = deal_approvals
    stmt = (select(a.c.id, a.c.due_at, a.c.remind_before_hours, a.c.reminded_at)
            .where(a.c.status == "PENDING", a.c.escalated_at.is_(None), a.c.due_at.is_not(None))
            .order_by(a.c.due_at).limit(limit))
    work = []
    for row in connection.execute(stmt):
        if row.due_at <= now:
            work.append((row.id, "escalate"))
        elif row.reminded_at is None and row.remind_before_hours is not None and \
                row.due_at - dt.timedelta(hours=float(row.remind_before_hours)) <= now:
            work.append((row.id, "remind"))
    return work


def escalate(connection: Connection, *, approval_id: str, at: dt.datetime) -> str | None:
    """Escalate the stage if it is still PENDING and not yet escalated; the deal's id, None when not."""
    stage = _stage(connection, approval_id)
    if stage is None or stage.escalated_at is not None:
        return None
    writer = Writer(connection, Actor(user_id=SYSTEM.user_id, sub=SYSTEM.sub, via="SYSTEM", at=at,
                                      reason="past due"))
    if not writer.update_if(deal_approvals, stage, {"escalated_at": at},
                            expected={"status": "PENDING", "escalated_at": None}):
        return None
    system_user.ensure(writer)
    role = stage.escalate_to or "DEAL_DESK"
    approval.add_action(writer, approval=stage, action="ESCALATED",
                        comment=f"Past due ({stage.due_at.isoformat()}): escalated to {role}.")
    notices.stage_pending(writer, approval=dict(stage._mapping), kind="ESCALATED", role=role)
    notices.deal_event(writer, deal_id=stage.deal_id, kind="ESCALATED")
    return str(stage.deal_id)


def remind(connection: Connection, *, approval_id: str, at: dt.datetime) -> bool:
    """Remind the stage's approvers once; False when it was already done or the stage moved on."""
    stage = _stage(connection, approval_id)
    if stage is None or stage.reminded_at is not None:
        return False
    writer = Writer(connection, Actor(user_id=SYSTEM.user_id, sub=SYSTEM.sub, via="SYSTEM", at=at))
    if not writer.update_if(deal_approvals, stage, {"reminded_at": at},
                            expected={"status": "PENDING", "reminded_at": None}):
        return False
    system_user.ensure(writer)
    notices.stage_pending(writer, approval=dict(stage._mapping), kind="REMINDER")
    return True


def _stage(connection: Connection, approval_id: str) -> Row[Any] | None:
    # The deal first (locked, or claimed by the journal), as every workflow step does; then its stage.
    records.deal_of_approval(connection, principal=SYSTEM, approval_id=approval_id)
    stage = records.approval_of(connection, principal=SYSTEM, approval_id=approval_id)
    return stage if stage.status == "PENDING" else None
