"""Decisions and comments on approvals, each run inside the mutation's one transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row

from auth.actions import require_decision
from auth.principal import Principal
from gateway.core.errors import Conflict
from gateway.core.ids import new_id
from gateway.core.tables import approval_actions
from gateway.store.audit import Actor
from gateway.store.writer import Writer
from gateway.workflow import chain, history, records


def decide(connection: Connection, *, principal: Principal, actor: Actor, approval_id: str,
           decision: str, comment: str | None) -> str:
    """Decide the PENDING stage and move the chain or the deal on; the deal's id."""
    # The deal first: once it is locked (or claimed by the journal), its approvals cannot change under us.
    deal = records.deal_of_approval(connection, principal=principal, approval_id=approval_id)
    approval = records.approval_of(connection, principal=principal, approval_id=approval_id)
    require_decision(principal, stage=approval.stage, deal_owner_id=deal.owner_id, deal_region=deal.region)
    _check_pending(approval)
    writer = Writer(connection, actor)
    chain.decide(writer, approval=approval, decision=decision)
    add_action(writer, approval=approval, action=decision, comment=comment)
    _advance(writer, deal=deal, approval=approval, decision=decision, comment=comment)
    return str(deal.id)


def comment(connection: Connection, *, principal: Principal, actor: Actor, approval_id: str,
            text: str) -> dict[str, Any]:
    """A COMMENT action on an approval of a deal the caller may see; the new row."""
    approval = records.approval_of(connection, principal=principal, approval_id=approval_id)
    return add_action(Writer(connection, actor), approval=approval, action="COMMENT", comment=text)


def add_action(writer: Writer, *, approval: Row[Any], action: str, comment: str | None) -> dict[str, Any]:
    """Insert one `approval_actions` row by the writer's actor; the row."""
    row = {"id": new_id(), "approval_id": approval.id, "deal_id": approval.deal_id, "action": action,
           "actor_id": writer.actor.user_id, "comment": comment, "created_at": writer.actor.at,
           "via": writer.actor.via}
    writer.insert(approval_actions, row)
    return row


def _check_pending(approval: Row[Any]) -> None:
    if approval.status == "WAITING":
        raise Conflict("This stage is not open for a decision yet.", field="approvalId")
    if approval.status != "PENDING":
        raise Conflict(f"This approval is already {approval.status}.", field="approvalId")


def _advance(writer: Writer, *, deal: Row[Any], approval: Row[Any], decision: str,
             comment: str | None) -> None:
    # An approval that leaves its step open, or starts the next step, does not change the deal itself.
    if decision == "APPROVE":
        if chain.advance(writer, approval=approval):
            return
    else:
        chain.cancel_others(writer, approval=approval)
    history.change_status(writer, deal=deal, expected_version=deal.version,
                          to_status=chain.DECIDED[decision], reason=comment)
