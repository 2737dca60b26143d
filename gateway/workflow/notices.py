"""Who is told what, in the outbox, inside the change that causes it (PRODUCT.md: "Approvers are told").

When a stage becomes PENDING: its eligible approvers, the users whose last-seen roles (seen within
`DEAL_DESK_NOTIFY_ROLES_MAX_AGE_H`) include the stage's role (SALES_MANAGER: of the deal's region), never
the deal's owner. When a deal becomes APPROVED, REJECTED or CHANGES_REQUESTED: its owner, with the
decider's comment. Each message carries what it shows, read now in the change's own transaction.

Which channels are on is the process's configuration (`configure`, from the settings at start-up): with
none, nothing is written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Mapping
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import Connection, select

from gateway.core.tables import advertisers, deals, users
from gateway.store import outbox
from gateway.store import user as user_store
from gateway.store.audit import Actor
from gateway.store.writer import Writer

P = ParamSpec("P")
T = TypeVar("T")
SLACK = "slack"
WEBHOOK = "webhook"
OUTCOMES = frozenset({"APPROVED", "REJECTED", "CHANGES_REQUESTED"})
ROLES_MAX_AGE_H = 720.0

_channels: frozenset[str] = frozenset()
_roles_max_age_h = ROLES_MAX_AGE_H


def configure(*, channels: Collection[str], roles_max_age_h: float = ROLES_MAX_AGE_H) -> None:
    """Turn the channels on (the others off) for the changes this process makes from now on."""
    global _channels, _roles_max_age_h
    _channels, _roles_max_age_h = frozenset(channels), roles_max_age_h


def enabled(channel: str) -> bool:
    """True when `channel` is configured."""
    return channel in _channels


def stage_pending(writer: Writer, *, approval: Mapping[str, Any], kind: str = "APPROVAL_PENDING",
                  role: str | None = None) -> int:
    """Tell the holders of the stage's role (or of `role`) that it waits for them; how many were told."""
    if not enabled(SLACK):
        return 0
    deal = _deal(writer, str(approval["deal_id"]))
    wanted = role or str(approval["stage"])
    region = deal["region"] if wanted == "SALES_MANAGER" else None
    seen_since = writer.actor.at - dt.timedelta(hours=_roles_max_age_h)
    holders = user_store.holders_of(writer.connection, role=wanted, region=region, seen_since=seen_since,
                                    excluding=deal["owner_id"])
    facts = {**deal, "approval_id": approval["id"], "stage": approval["stage"],
             "due_at": _iso(approval.get("due_at"))}
    for user in holders:
        outbox.enqueue(writer, channel=SLACK, kind=kind, recipient=user.id,
                       payload={**facts, "email": user.email})
    return len(holders)


def outcome(writer: Writer, *, deal_id: str, status: str, comment: str | None) -> None:
    """Tell the deal's owner it was decided, by whom, with the decider's comment."""
    if status not in OUTCOMES or not enabled(SLACK):
        return
    deal = _deal(writer, deal_id)
    owner = writer.read(users, deal["owner_id"])
    if owner is None:
        return
    decider = writer.read(users, writer.actor.user_id)
    outbox.enqueue(writer, channel=SLACK, kind="DEAL_DECIDED", recipient=owner.id, payload={
        **deal, "status": status, "comment": comment, "email": owner.email,
        "decided_by": decider.display_name if decider is not None else None})


def deal_event(writer: Writer, *, deal_id: str, kind: str) -> None:
    """One webhook message for a DealEvent of the deal."""
    if not enabled(WEBHOOK):
        return
    outbox.enqueue(writer, channel=WEBHOOK, kind=kind, recipient=None, payload={
        "type": f"deal.{kind.lower()}", "timestamp": writer.actor.at.isoformat(),
        "data": {"kind": kind, "dealId": deal_id, "actorId": writer.actor.user_id,
                 "at": writer.actor.at.isoformat()}})


def _deal(writer: Writer, deal_id: str) -> dict[str, Any]:
    row = writer.read(deals, deal_id)  # as this change leaves it, journaled or not
    if row is None:
        raise LookupError("deal vanished inside its own transaction")
    return {"deal_id": deal_id, "deal_number": row.deal_number, "name": row.name,
            "advertiser": _advertiser_name(writer.connection, row.advertiser_id),
            "total_value": str(row.total_value), "currency": row.currency, "region": row.region,
            "owner_id": row.owner_id}


def _advertiser_name(connection: Connection, advertiser_id: str) -> str | None:
    name: str | None = connection.execute(
        select(advertisers.c.name).where(advertisers.c.id == advertiser_id)).scalar()
    return name


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, dt.datetime) else None


def evented(kind: str,
            fn: Callable[Concatenate[Connection, P], T]) -> Callable[Concatenate[Connection, P], T]:
    """`fn`, followed in its own transaction by the webhook of the DealEvent `kind` it causes.

    The deal is the one `fn` returns (its id, or a row naming it), else its `deal_id` argument; the writer's
    actor is its `actor` argument."""

    def run(connection: Connection, /, *args: P.args, **kwargs: P.kwargs) -> T:
        result = fn(connection, *args, **kwargs)
        if enabled(WEBHOOK):
            deal_id = result if isinstance(result, str) else (
                result["deal_id"] if isinstance(result, Mapping) else kwargs["deal_id"])
            actor = kwargs["actor"]
            assert isinstance(actor, Actor)
            deal_event(Writer(connection, actor), deal_id=str(deal_id), kind=kind)
        return result

    return run
