"""Writes to `deal_scoping_requests`, each audited through the Writer in the caller's transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, Table, select

from auth.principal import Principal
from gateway.core.errors import Conflict, NotFound
from gateway.core.ids import new_id
from gateway.core.tables import advertisers, agencies
from gateway.core.tables import deal_scoping_requests as requests
from gateway.store import scoping
from gateway.store.audit import Actor
from gateway.store.writer import Writer

# CONVERTED is reached only through convertScopingRequest.
TRANSITIONS: dict[str, frozenset[str]] = {
    "OPEN": frozenset({"IN_REVIEW", "DECLINED"}),
    "IN_REVIEW": frozenset({"QUALIFIED", "DECLINED", "OPEN"}),
    "QUALIFIED": frozenset({"IN_REVIEW", "DECLINED"}),
}


def create(connection: Connection, *, actor: Actor, principal: Principal,
           values: dict[str, Any]) -> dict[str, Any]:
    """Insert an OPEN request by the caller, in the caller's region; returns the new row."""
    require_exists(connection, advertisers, values["advertiser_id"], "input.advertiserId")
    if values.get("agency_id") is not None:
        require_exists(connection, agencies, values["agency_id"], "input.agencyId")
    row = {"id": new_id(), **values, "status": "OPEN", "requested_by": principal.user_id,
           "region": principal.region, "converted_deal_id": None,
           "created_at": actor.at, "updated_at": actor.at}
    Writer(connection, actor).insert(requests, row)
    return row


def set_status(connection: Connection, *, actor: Actor, principal: Principal, request_id: str,
               status: str) -> dict[str, Any]:
    """Move a visible request to `status` along TRANSITIONS; returns the changed row."""
    before = visible_request(connection, principal, request_id)
    if status not in TRANSITIONS.get(before.status, frozenset()):
        raise Conflict(f"A scoping request cannot go from {before.status} to {status}.",
                       field="status")
    changes = {"status": status, "updated_at": actor.at}
    if not Writer(connection, actor).update_if(requests, before, changes, expected={"status": before.status}):
        raise Conflict("The scoping request was changed by someone else; reload it and retry.", field="id")
    return {**before._mapping, **changes}


def visible_request(connection: Connection, principal: Principal, request_id: str) -> Row[Any]:
    """The request if the caller may see it, else NOT_FOUND."""
    row = connection.execute(scoping.visible(principal).where(requests.c.id == request_id)).first()
    if row is None:
        raise NotFound("No such scoping request.", field="id")
    return row


def require_exists(connection: Connection, table: Table, row_id: str, field: str) -> None:
    """NOT_FOUND naming `field` unless `table` has a row `row_id`."""
    if connection.execute(select(table.c.id).where(table.c.id == row_id)).first() is None:
        raise NotFound(f"{field} does not name an existing record.", field=field)
