"""The approval chain of one submission: built from the rules, advanced stage by stage.

Each submission is a `round`: one `deal_approvals` row per required stage, in rule order. The first
stage is PENDING from the start, the others WAITING; a stage becomes PENDING (activated_at now,
due_at 48 h later) when the one before it is approved. A decision other than APPROVE, a withdrawal
or a resubmission CANCELs the stages still open.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Row

from gateway.core.errors import Conflict
from gateway.core.ids import new_id
from gateway.core.tables import deal_approvals
from gateway.store import children
from gateway.store.writer import Writer
from gateway.workflow import records
from gateway.workflow.rules import StageRule, required_stages

DUE_AFTER = dt.timedelta(hours=48)
OPEN = ("PENDING", "WAITING")
DECIDED = {"APPROVE": "APPROVED", "REJECT": "REJECTED", "REQUEST_CHANGES": "CHANGES_REQUESTED"}


def stages_for(connection: Connection, *, deal: Row[Any], rules: Sequence[StageRule]) -> list[str]:
    """The stages the deal needs now, from its fields, tiers and PERCENT incentives."""
    tiers = children.tiers(connection, deal_ids=[deal.id])
    incentives = children.incentives(connection, deal_ids=[deal.id])
    return required_stages(
        total_value=deal.total_value, target_margin_pct=deal.target_margin_pct,
        tier_margins=[tier.margin_pct for tier in tiers],
        percent_incentives=[i.value for i in incentives if i.unit == "PERCENT"],
        non_standard_terms=deal.non_standard_terms, rules=rules,
    )


def build(writer: Writer, *, deal_id: str, stages: Sequence[str], round: int) -> None:
    """Insert the round's approvals: the first PENDING, the rest WAITING."""
    at = writer.actor.at
    for sequence, stage in enumerate(stages, start=1):
        first = sequence == 1
        writer.insert(deal_approvals, {
            "id": new_id(), "deal_id": deal_id, "round": round, "stage": stage, "sequence": sequence,
            "status": "PENDING" if first else "WAITING", "activated_at": at if first else None,
            "due_at": at + DUE_AFTER if first else None, "decided_by": None, "decided_at": None,
            "created_at": at,
        })


def cancel_open(writer: Writer, *, deal_id: str) -> None:
    """CANCEL every PENDING or WAITING approval of the deal, of any round."""
    for row in records.approvals_of(writer.connection, deal_id=deal_id, statuses=OPEN):
        writer.update(deal_approvals, row, {"status": "CANCELLED"})


def cancel_later(writer: Writer, *, approval: Row[Any]) -> None:
    """CANCEL the stages after `approval` in its round."""
    later = records.approvals_of(writer.connection, deal_id=approval.deal_id, statuses=OPEN,
                                 round=approval.round, after_sequence=approval.sequence)
    for row in later:
        writer.update(deal_approvals, row, {"status": "CANCELLED"})


def decide(writer: Writer, *, approval: Row[Any], decision: str) -> None:
    """Record the decision on a PENDING approval; CONFLICT when another decision came first."""
    changes = {"status": DECIDED[decision], "decided_by": writer.actor.user_id,
               "decided_at": writer.actor.at}
    if not writer.update_if(deal_approvals, approval, changes, expected={"status": "PENDING"}):
        raise Conflict("This approval has already been decided.", field="approvalId")


def activate_next(writer: Writer, *, approval: Row[Any]) -> bool:
    """Make the stage after `approval` PENDING; False when `approval` was the last stage."""
    waiting = records.approvals_of(writer.connection, deal_id=approval.deal_id, statuses=("WAITING",),
                                   round=approval.round, after_sequence=approval.sequence)
    if not waiting:
        return False
    at = writer.actor.at
    writer.update(deal_approvals, waiting[0],
                  {"status": "PENDING", "activated_at": at, "due_at": at + DUE_AFTER})
    return True
