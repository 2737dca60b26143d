"""Deal status changes: the versioned UPDATE and its `deal_status_history` row, always together."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row

from gateway.core.ids import new_id
from gateway.core.tables import deal_status_history, deals
from gateway.store.writer import Writer
from gateway.workflow import notices
from gateway.workflow.transitions import check_transition


def record(writer: Writer, *, deal_id: str, from_status: str | None, to_status: str,
           reason: str | None = None) -> None:
    """Append one status-history row by the writer's actor."""
    writer.insert(deal_status_history, {
        "id": new_id(), "deal_id": deal_id, "from_status": from_status, "to_status": to_status,
        "changed_by": writer.actor.user_id, "reason": reason, "changed_at": writer.actor.at,
    })


def change_status(writer: Writer, *, deal: Row[Any], expected_version: int, to_status: str,
                  reason: str | None = None, **changes: Any) -> Row[Any]:
    """Move `deal` to `to_status` (CONFLICT if illegal or stale) with its history row; the new row."""
    check_transition(deal.status, to_status)
    writer.update_versioned(deals, deal, expected_version,
                            {"status": to_status, "updated_at": writer.actor.at, **changes})
    record(writer, deal_id=deal.id, from_status=deal.status, to_status=to_status, reason=reason)
    notices.outcome(writer, deal_id=deal.id, status=to_status, comment=reason)
    return _reread(writer, deal.id)


def _reread(writer: Writer, deal_id: str) -> Row[Any]:
    row = writer.read(deals, deal_id)
    if row is None:  # the row was just updated in this transaction
        raise LookupError("deal vanished inside its own transaction")
    return row
