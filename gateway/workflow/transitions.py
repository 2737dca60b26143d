"""The deal status transitions of PRODUCT.md (Approval workflow); any other one is a CONFLICT."""

from __future__ import annotations

from gateway.core.errors import Conflict

TRANSITIONS: dict[str, frozenset[str]] = {
    "DRAFT": frozenset({"PENDING_APPROVAL", "WITHDRAWN"}),
    "PENDING_APPROVAL": frozenset({"APPROVED", "REJECTED", "CHANGES_REQUESTED", "WITHDRAWN"}),
    "CHANGES_REQUESTED": frozenset({"PENDING_APPROVAL", "WITHDRAWN"}),
    "APPROVED": frozenset({"CLOSED_WON", "CLOSED_LOST", "WITHDRAWN"}),
}
EDITABLE = frozenset({"DRAFT", "CHANGES_REQUESTED"})
"""Statuses in which the deal's fields, tiers and incentives may change."""


def is_allowed(from_status: str, to_status: str) -> bool:
    """True when the table allows going from `from_status` to `to_status`."""
    return to_status in TRANSITIONS.get(from_status, frozenset())


def check_transition(from_status: str, to_status: str) -> None:
    """CONFLICT unless the deal may go from `from_status` to `to_status`."""
    if not is_allowed(from_status, to_status):
        raise Conflict(f"A {from_status} deal cannot become {to_status}.", status=from_status)


def check_editable(status: str) -> None:
    """CONFLICT unless a deal in `status` may be edited (DRAFT or CHANGES_REQUESTED)."""
    if status not in EDITABLE:
        raise Conflict(f"A {status} deal cannot be edited; only DRAFT or CHANGES_REQUESTED ones.",
                       status=status)
