"""The approval chain of one submission: planned from the rules, built, advanced step by step.

Each submission is a `round`: one `deal_approvals` row per required stage, in rule order, each in its
step. A stage approved in the round it supersedes is carried over (created APPROVED, with a
CARRIED_OVER action by the system) when none of the Deal fields it watches changed since. The stages
of the first step not carried over are PENDING (activated now, due `due_hours` later), the later
ones WAITING; when every stage of a step is APPROVED the next step's stages become PENDING together.
A decision other than APPROVE, a withdrawal or a resubmission CANCELs the stages still open.
`approvalChainPreview` shows the same plan without writing it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Row

from gateway.core.errors import Conflict
from gateway.core.ids import new_id
from gateway.core.tables import approval_actions, deal_approvals
from gateway.store import children, system_user
from gateway.store.writer import Writer
from gateway.workflow import notices, records, terms
from gateway.workflow.rules import (
    DUE_HOURS,
    RESTRICTED_TERMS,
    Reason,
    RequiredStage,
    StageRule,
    deal_facts,
    required,
)

OPEN = ("PENDING", "WAITING")
DECIDED = {"APPROVE": "APPROVED", "REJECT": "REJECTED", "REQUEST_CHANGES": "CHANGES_REQUESTED"}


@dataclass(frozen=True)
class PlannedStage:
    """A stage a submission would create: what requires it, and the approval it would carry over."""

    needed: RequiredStage
    carried_from: Row[Any] | None  # the superseded round's APPROVED row of the stage, when carried
    carry_note: Reason | None  # why it is, or is not, carried over; None when there was nothing to carry

    @property
    def due_hours(self) -> Decimal:
        """Hours from the stage's start to its due time."""
        return self.needed.rule.due_hours

    @property
    def reasons(self) -> list[Reason]:
        """Why the stage is required, then what smart re-approval decided, in words."""
        return [*self.needed.reasons, *([self.carry_note] if self.carry_note else [])]


@dataclass(frozen=True)
class Plan:
    """The chain a submission would create now, and the terms it is given on."""

    stages: list[PlannedStage]
    terms: dict[str, str]
    round: int
    open_rows: list[Row[Any]]  # what is left of earlier chains: a submission cancels it


def plan(connection: Connection, *, deal: Any, rules: Sequence[StageRule]) -> Plan:
    """The chain the deal needs now (its fields, tiers and PERCENT incentives), carry-overs decided."""
    tiers = children.tiers(connection, deal_ids=[deal.id])
    incentives = children.incentives(connection, deal_ids=[deal.id])
    approvals = records.approvals_of(connection, deal_id=deal.id)
    facts = deal_facts(
        total_value=deal.total_value, target_margin_pct=deal.target_margin_pct,
        tier_margins=[tier.margin_pct for tier in tiers],
        percent_incentives=[i.value for i in incentives if i.unit == "PERCENT"],
        non_standard_terms=deal.non_standard_terms,
    )
    now = terms.digests(deal, tiers, incentives)
    last = max((row.round for row in approvals), default=0)
    approved = {row.stage: row for row in approvals if row.round == last and row.status == "APPROVED"}
    stages = [_carry(needed, approved.get(needed.stage), now) for needed in required(facts, rules)]
    return Plan(stages=stages, terms=now, round=last + 1,
                open_rows=[row for row in approvals if row.status in OPEN])


def _carry(needed: RequiredStage, earlier: Row[Any] | None, now: dict[str, str]) -> PlannedStage:
    if earlier is None:
        return PlannedStage(needed, None, None)
    stage, round = needed.stage, earlier.round
    if needed.rule.reapprove == "always":
        return PlannedStage(needed, None, Reason(f'{stage}: approved in round {round}, asked again: '
                                                 f'reapprove = "always"'))
    changed = terms.changed(earlier.terms_digest, now, needed.rule.watched)
    if changed:
        return PlannedStage(needed, None, _asked_again(stage, round, changed))
    watched = ", ".join(needed.rule.watched)
    return PlannedStage(needed, earlier, Reason(f"{stage}: carried over from round {round}: none of "
                                                f"{watched} changed since its approval"))


def _asked_again(stage: str, round: int, changed: list[str]) -> Reason:
    text = f"{stage}: approved in round {round}, asked again: {', '.join(changed)} changed since"
    kinds = sorted({RESTRICTED_TERMS[term] for term in changed if term in RESTRICTED_TERMS})
    if not kinds:
        return Reason(text)
    shown = [term for term in changed if term not in RESTRICTED_TERMS]
    redacted = (f"{stage}: approved in round {round}, asked again: "
                f"{', '.join([*shown, 'a field restricted for your role'])} changed since")
    return Reason(text, tuple(kinds), redacted)


def build(writer: Writer, *, deal_id: str, plan: Plan) -> bool:
    """Cancel what is left of earlier chains, insert the plan's round; False when no stage is left open."""
    for open_row in plan.open_rows:
        writer.update(deal_approvals, open_row, {"status": "CANCELLED"})
    at = writer.actor.at
    asked = [planned.needed.step for planned in plan.stages if planned.carried_from is None]
    first = min(asked, default=None)
    digest = terms.encode(plan.terms)
    carried = any(planned.carried_from is not None for planned in plan.stages)
    system = system_user.ensure(writer) if carried else None  # the actor of the CARRIED_OVER actions
    for sequence, planned in enumerate(plan.stages, start=1):
        rule, step, earlier = planned.needed.rule, planned.needed.step, planned.carried_from
        row: dict[str, Any] = {
            "id": new_id(), "deal_id": deal_id, "round": plan.round, "stage": rule.stage,
            "sequence": sequence, "step": step, "status": "WAITING", "activated_at": None, "due_at": None,
            "decided_by": None, "decided_at": None, "created_at": at, "due_hours": rule.due_hours,
            "remind_before_hours": rule.remind_before_hours, "escalate_to": rule.escalate_to,
            "terms_digest": digest, "carried_over_from": None,
        }
        if earlier is not None:
            origin = earlier.carried_over_from or earlier.id  # the approval a person gave
            row.update(status="APPROVED", decided_by=earlier.decided_by, decided_at=at,
                       carried_over_from=origin)
        elif step == first:
            row.update(status="PENDING", activated_at=at, due_at=_due(at, rule.due_hours))
        writer.insert(deal_approvals, row)
        if row["status"] == "PENDING":
            notices.stage_pending(writer, approval=row)
        if system is not None and earlier is not None:
            _carried_action(writer, approval_id=row["id"], deal_id=deal_id, actor_id=system,
                            note=planned.carry_note.text if planned.carry_note else None)
    return first is not None


def _carried_action(writer: Writer, *, approval_id: str, deal_id: str, actor_id: str,
                    note: str | None) -> None:
    writer.insert(approval_actions, {
        "id": new_id(), "approval_id": approval_id, "deal_id": deal_id, "action": "CARRIED_OVER",
        "actor_id": actor_id, "comment": note, "created_at": writer.actor.at, "via": "SYSTEM",
    })


def _due(at: dt.datetime, hours: Decimal) -> dt.datetime:
    return at + dt.timedelta(hours=float(hours))


def cancel_open(writer: Writer, *, deal_id: str) -> None:
    """CANCEL every PENDING or WAITING approval of the deal, of any round."""
    for row in records.approvals_of(writer.connection, deal_id=deal_id, statuses=OPEN):
        writer.update(deal_approvals, row, {"status": "CANCELLED"})


def cancel_others(writer: Writer, *, approval: Row[Any]) -> None:
    """CANCEL every open stage of `approval`'s round but itself: its step's and the later ones."""
    for row in records.approvals_of(writer.connection, deal_id=approval.deal_id, statuses=OPEN,
                                    round=approval.round):
        if row.id != approval.id:  # where writes are journaled, our own decision is not read back
            writer.update(deal_approvals, row, {"status": "CANCELLED"})


def decide(writer: Writer, *, approval: Row[Any], decision: str) -> None:
    """Record the decision on a PENDING approval; CONFLICT when another decision came first."""
    changes = {"status": DECIDED[decision], "decided_by": writer.actor.user_id,
               "decided_at": writer.actor.at}
    if not writer.update_if(deal_approvals, approval, changes, expected={"status": "PENDING"}):
        raise Conflict("This approval has already been decided.", field="approvalId")


def advance(writer: Writer, *, approval: Row[Any]) -> bool:
    """After `approval` was approved: start the next step once its own is all APPROVED; False when done."""
    rows = records.approvals_of(writer.connection, deal_id=approval.deal_id, round=approval.round)
    others = [row for row in rows if row.id != approval.id]
    if any(row.step == approval.step and row.status != "APPROVED" for row in others):
        return True  # a stage of the same step is still PENDING
    waiting = [row for row in others if row.status == "WAITING"]
    if not waiting:
        return False
    at, step = writer.actor.at, min(row.step for row in waiting)
    for row in waiting:
        if row.step == step:
            started = {"status": "PENDING", "activated_at": at,
                       "due_at": _due(at, row.due_hours or DUE_HOURS)}
            writer.update(deal_approvals, row, started)
            notices.stage_pending(writer, approval={**row._mapping, **started})
    return True
