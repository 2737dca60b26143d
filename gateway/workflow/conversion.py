"""convertScopingRequest: a QUALIFIED scoping request becomes a DRAFT deal owned by its requester.

The deal takes the request's title (as name), advertiser, agency, currency, estimated budget (as
totalValue), desired start and end (as its dates) and objective (as notes). A request without a
budget or without both dates cannot become a valid deal: BAD_USER_INPUT naming `id`, and nothing
is written; qualify the request once those are known. What a request does not say gets a neutral
value the owner edits while the deal is a DRAFT: dealType PREFERRED_DEAL, channels [DISPLAY]. The
deal's region is the requester's (their `users` row), else the request's.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, select

from auth.actions import Action, require
from auth.principal import Principal
from gateway.core.errors import BadUserInput, Conflict
from gateway.core.tables import deal_scoping_requests, users
from gateway.store.audit import Actor
from gateway.store.writer import Writer
from gateway.workflow import records
from gateway.workflow.deal import insert_draft

DEFAULT_DEAL_TYPE = "PREFERRED_DEAL"
DEFAULT_CHANNELS = "DISPLAY"


def convert(connection: Connection, *, principal: Principal, actor: Actor, request_id: str) -> str:
    """Create the DRAFT deal and mark the request CONVERTED; the deal's id."""
    request = records.scoping_for_change(connection, principal=principal, request_id=request_id)
    require(principal, Action.CONVERT_SCOPING_REQUEST, owner_id=request.requested_by)
    if request.status != "QUALIFIED":
        raise Conflict(f"Only a QUALIFIED scoping request can be converted, not a {request.status} one.",
                       field="id")
    writer = Writer(connection, actor)
    deal_id = insert_draft(writer, owner_id=request.requested_by, values=deal_values(connection, request))
    changes = {"status": "CONVERTED", "converted_deal_id": deal_id, "updated_at": actor.at}
    if not writer.update_if(deal_scoping_requests, request, changes, expected={"status": "QUALIFIED"}):
        raise Conflict("The scoping request was converted by someone else.", field="id")
    return deal_id


def deal_values(connection: Connection, request: Row[Any]) -> dict[str, Any]:
    """The new deal's columns; BAD_USER_INPUT when the request lacks a budget or valid dates."""
    _check_complete(request)
    return {
        "name": request.title, "advertiser_id": request.advertiser_id, "agency_id": request.agency_id,
        "deal_type": DEFAULT_DEAL_TYPE, "channels": DEFAULT_CHANNELS,
        "region": _region(connection, request), "currency": request.currency,
        "total_value": request.estimated_budget, "start_date": request.desired_start,
        "end_date": request.desired_end, "target_margin_pct": None, "floor_cpm": None,
        "non_standard_terms": None, "notes": request.objective,
    }


def _check_complete(request: Row[Any]) -> None:
    if request.estimated_budget is None:
        raise BadUserInput("The scoping request has no estimated budget to become the deal's value.",
                           field="id")
    if request.desired_start is None or request.desired_end is None:
        raise BadUserInput("The scoping request needs a desired start and end to become a deal.", field="id")
    if request.desired_end <= request.desired_start:
        raise BadUserInput("The scoping request's desired end is not after its start.", field="id")


def _region(connection: Connection, request: Row[Any]) -> str:
    stored = connection.execute(select(users.c.region).where(users.c.id == request.requested_by)).scalar()
    region = stored or request.region
    if not region:
        raise BadUserInput("Neither the requester nor the scoping request has a region.", field="id")
    return str(region)
