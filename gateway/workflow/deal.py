"""Deal changes of the workflow, each run inside the mutation's one transaction.

Every step reads the deal under the caller's row rules (NOT_FOUND when hidden), checks the
caller's permission (FORBIDDEN), then the status (CONFLICT), and only then writes: the
compare-and-set on `deals.version` comes first, so a stale `expectedVersion` writes nothing.
Values arrive validated by the resolvers; only checks that need the stored deal happen here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, Table

from auth.actions import Action, require
from auth.fields import may_read
from auth.principal import Principal
from gateway.core.errors import BadUserInput, NotFound
from gateway.core.ids import new_id
from gateway.core.tables import advertisers, agencies, deal_tiers, deals, incentive_values
from gateway.store import children
from gateway.store import deal as deal_store
from gateway.store.audit import Actor
from gateway.store.writer import Writer
from gateway.workflow import chain, history, numbers, records
from gateway.workflow.rules import Reason, StageRule
from gateway.workflow.transitions import check_editable

Values = Mapping[str, Any]
NO_STAGE_REASON = "No approval stage is required for this deal."
CARRIED_REASON = "Carried over, nothing they watch changed since their approval: {}."
ALL_CARRIED_REASON = "Every stage was carried over from the earlier approval chain."


def create(connection: Connection, *, principal: Principal, actor: Actor, values: Values,
           tiers: Sequence[Values], incentives: Sequence[Values]) -> str:
    """Insert a DRAFT deal owned by the caller, with its tiers and incentives; its id."""
    records.require_reference(connection, principal=principal, table=advertisers,
                              row_id=values["advertiser_id"], field="input.advertiserId")
    _check_agency(connection, principal, values.get("agency_id"), "input.agencyId")
    writer = Writer(connection, actor)
    deal_id = insert_draft(writer, owner_id=actor.user_id, values=values)
    _insert_tiers(writer, deal_id=deal_id, tiers=tiers)
    _insert_incentives(writer, deal_id=deal_id, incentives=incentives)
    return deal_id


def insert_draft(writer: Writer, *, owner_id: str, values: Values) -> str:
    """Insert a DRAFT deal (version 1, the next deal number) and its first history row; its id."""
    at = writer.actor.at
    row = {**values, "id": new_id(), "deal_number": numbers.allocate(writer.connection, year=at.year),
           "status": "DRAFT", "version": 1, "owner_id": owner_id, "created_at": at, "updated_at": at,
           "submitted_at": None}
    writer.insert(deals, row)
    history.record(writer, deal_id=row["id"], from_status=None, to_status="DRAFT")
    return str(row["id"])


def update(connection: Connection, *, principal: Principal, actor: Actor, deal_id: str,
           expected_version: int, changes: Values) -> None:
    """Change an editable deal's fields (compare-and-set on its version)."""
    deal = _editable(connection, principal, Action.UPDATE_DEAL, deal_id, "id")
    _check_dates(deal, changes)
    _check_agency(connection, principal, changes.get("agency_id"), "input.agencyId")
    Writer(connection, actor).update_versioned(deals, deal, expected_version,
                                               {**changes, "updated_at": actor.at})


def set_tiers(connection: Connection, *, principal: Principal, actor: Actor, deal_id: str,
              expected_version: int, tiers: Sequence[Values]) -> None:
    """Replace an editable deal's tiers (numbered 1..n); the deal's version goes up."""
    deal = _editable(connection, principal, Action.SET_DEAL_TIERS, deal_id, "dealId")
    writer = _replace_children(connection, actor, deal, expected_version, deal_tiers, children.tiers)
    _insert_tiers(writer, deal_id=deal_id, tiers=tiers)


def set_incentives(connection: Connection, *, principal: Principal, actor: Actor, deal_id: str,
                   expected_version: int, incentives: Sequence[Values]) -> None:
    """Replace an editable deal's incentives; the deal's version goes up."""
    deal = _editable(connection, principal, Action.SET_DEAL_INCENTIVES, deal_id, "dealId")
    writer = _replace_children(connection, actor, deal, expected_version, incentive_values,
                               children.incentives)
    _insert_incentives(writer, deal_id=deal_id, incentives=incentives)


def submit(connection: Connection, *, principal: Principal, actor: Actor, deal_id: str,
           expected_version: int, rules: Sequence[StageRule]) -> None:
    """PENDING_APPROVAL with a new approval chain; what is left of an earlier chain is cancelled."""
    deal = _owned(connection, principal, Action.SUBMIT_DEAL, deal_id)
    writer = Writer(connection, actor)
    chain_plan = chain.plan(connection, deal=deal, rules=rules)
    carried = [planned.needed.stage for planned in chain_plan.stages if planned.carried_from is not None]
    deal = history.change_status(writer, deal=deal, expected_version=expected_version,
                                 to_status="PENDING_APPROVAL", submitted_at=actor.at,
                                 reason=CARRIED_REASON.format(", ".join(carried)) if carried else None)
    if not chain.build(writer, deal_id=deal_id, plan=chain_plan):
        history.change_status(writer, deal=deal, expected_version=deal.version, to_status="APPROVED",
                              reason=ALL_CARRIED_REASON if carried else NO_STAGE_REASON)


@dataclass(frozen=True)
class PreviewedStage:
    """A stage of the chain preview, its reasons in words the caller may read."""

    planned: chain.PlannedStage
    reasons: list[str]


def preview(connection: Connection, *, principal: Principal, deal_id: str,
            rules: Sequence[StageRule]) -> list[PreviewedStage]:
    """The stages a submission of the deal would create now; NOT_FOUND when the caller may not see it."""
    found = deal_store.get_by_ids(connection, principal=principal, ids=[deal_id])
    if not found:
        raise NotFound("No deal with this id.", field="dealId")
    deal = found[0]

    def readable(reason: Reason) -> str:
        allowed = all(may_read(principal, kind, owner_id=deal.owner_id) for kind in reason.restricted)
        return reason.text if allowed or reason.redacted is None else reason.redacted

    stages = chain.plan(connection, deal=deal, rules=rules).stages
    return [PreviewedStage(planned, [readable(reason) for reason in planned.reasons]) for planned in stages]


def withdraw(connection: Connection, *, principal: Principal, actor: Actor, deal_id: str,
             expected_version: int, reason: str) -> None:
    """WITHDRAWN, cancelling the approvals still open."""
    deal = _owned(connection, principal, Action.WITHDRAW_DEAL, deal_id)
    writer = Writer(connection, actor)
    history.change_status(writer, deal=deal, expected_version=expected_version, to_status="WITHDRAWN",
                          reason=reason)
    chain.cancel_open(writer, deal_id=deal_id)


def close(connection: Connection, *, principal: Principal, actor: Actor, deal_id: str,
          expected_version: int, won: bool, reason: str | None) -> None:
    """CLOSED_WON or CLOSED_LOST, from APPROVED only."""
    deal = _owned(connection, principal, Action.CLOSE_DEAL, deal_id)
    history.change_status(Writer(connection, actor), deal=deal, expected_version=expected_version,
                          to_status="CLOSED_WON" if won else "CLOSED_LOST", reason=reason)


def _owned(connection: Connection, principal: Principal, action: Action, deal_id: str) -> Row[Any]:
    deal = records.deal_for_change(connection, principal=principal, deal_id=deal_id, field="id")
    require(principal, action, owner_id=deal.owner_id)
    return deal


def _editable(connection: Connection, principal: Principal, action: Action, deal_id: str,
              field: str) -> Row[Any]:
    deal = records.deal_for_change(connection, principal=principal, deal_id=deal_id, field=field)
    require(principal, action, owner_id=deal.owner_id)
    check_editable(deal.status)
    return deal


def _check_dates(deal: Row[Any], changes: Values) -> None:
    start = changes.get("start_date", deal.start_date)
    end = changes.get("end_date", deal.end_date)
    if end <= start:
        field = "input.endDate" if "end_date" in changes else "input.startDate"
        raise BadUserInput(f"{field}: the end date must be after the start date", field=field)


def _check_agency(connection: Connection, principal: Principal, agency_id: str | None, field: str) -> None:
    if agency_id is not None:
        records.require_reference(connection, principal=principal, table=agencies, row_id=agency_id,
                                  field=field)


def _replace_children(connection: Connection, actor: Actor, deal: Row[Any], expected_version: int,
                      table: Table, current: Callable[..., Sequence[Row[Any]]]) -> Writer:
    """Bump the deal's version and delete its rows of `table`; the caller inserts the new ones."""
    writer = Writer(connection, actor)
    writer.update_versioned(deals, deal, expected_version, {"updated_at": actor.at})
    for row in current(connection, deal_ids=[deal.id]):
        writer.delete(table, row)
    return writer


def _insert_tiers(writer: Writer, *, deal_id: str, tiers: Sequence[Values]) -> None:
    for number, tier in enumerate(tiers, start=1):
        writer.insert(deal_tiers, {**tier, "id": new_id(), "deal_id": deal_id, "tier_number": number})


def _insert_incentives(writer: Writer, *, deal_id: str, incentives: Sequence[Values]) -> None:
    for position, incentive in enumerate(incentives, start=1):
        writer.insert(incentive_values, {**incentive, "id": new_id(), "deal_id": deal_id,
                                         "position": position, "created_at": writer.actor.at})
