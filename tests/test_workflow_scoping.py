"""convertScopingRequest: a QUALIFIED request becomes a DRAFT deal of its requester, once."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from gateway.core.ids import new_id
from tests.support.gateway import Gateway
from tests.support.stores import WITH_JOURNAL
from tests.support.workflow import CONVERT, Workflow, changed_tables, operations, snapshot

STORE_KINDS = WITH_JOURNAL  # also on journaled writes (tests/conftest.py)

SCOPING = "query Scoping($id: ID!) { scopingRequest(id: $id) { status convertedDeal { id } } }"


def qualified(flow: Workflow, **values: Any) -> str:
    """A QUALIFIED request by the seller with a budget and dates."""
    row = {"status": "QUALIFIED", "title": "Acme Q4 audio", "objective": "Drive-time reach",
           "estimated_budget": Decimal("250000.00"), "currency": "EUR", "agency_id": flow.agency,
           "desired_start": dt.date(2026, 10, 1), "desired_end": dt.date(2026, 12, 31), **values}
    return flow.gateway.data.scoping(requested_by=flow.user_id("seller"), advertiser=flow.advertiser, **row)


@pytest.mark.parametrize("who", ["seller", "desk", "admin"])
async def test_convert_creates_a_draft_deal_owned_by_the_requester(gateway: Gateway, who: str) -> None:
    flow = await Workflow(gateway).meet()
    request = qualified(flow)

    deal = await flow.ok(CONVERT, {"id": request}, who=who)

    read = await flow.read(deal["id"])
    assert (read["status"], read["version"], read["owner"]["email"]) == ("DRAFT", 1, "seller@x.test")
    assert (read["name"], read["totalValue"], read["currency"]) == ("Acme Q4 audio", "250000.00", "EUR")
    assert (read["startDate"], read["endDate"], read["region"]) == ("2026-10-01", "2026-12-31", "NA")
    assert (read["agency"], read["advertiser"], read["notes"]) == (
        {"name": "Zenith"}, {"name": "Acme"}, "Drive-time reach")
    assert (read["dealType"], read["channels"]) == ("PREFERRED_DEAL", ["DISPLAY"])
    assert read["scopingRequest"] == {"id": request, "status": "CONVERTED"}
    scoping = await flow.ok(SCOPING, {"id": request}, who="admin")
    assert scoping == {"status": "CONVERTED", "convertedDeal": {"id": deal["id"]}}
    assert changed_tables(operations(flow.engine)[-1]) == sorted(
        [("deals", "INSERT"), ("deal_status_history", "INSERT"), ("deal_scoping_requests", "UPDATE")])


@pytest.mark.parametrize("status", ["OPEN", "IN_REVIEW", "DECLINED", "CONVERTED"])
async def test_only_a_qualified_request_converts(gateway: Gateway, status: str) -> None:
    flow = await Workflow(gateway).meet()
    request = qualified(flow, status=status)
    before = snapshot(flow.engine)
    assert await flow.fail(CONVERT, {"id": request}, who="desk") == ("CONFLICT", "id")
    assert snapshot(flow.engine) == before


async def test_a_request_converts_once(gateway: Gateway) -> None:
    flow = await Workflow(gateway).meet()
    request = qualified(flow)
    await flow.ok(CONVERT, {"id": request}, who="desk")
    assert await flow.fail(CONVERT, {"id": request}, who="desk") == ("CONFLICT", "id")


@pytest.mark.parametrize(
    "values",
    [{"estimated_budget": None}, {"desired_start": None}, {"desired_end": None}],
)
async def test_a_request_without_budget_or_dates_cannot_become_a_deal(gateway: Gateway,
                                                                       values: dict[str, Any]) -> None:
    flow = await Workflow(gateway).meet()
    request = qualified(flow, **values)
    before = snapshot(flow.engine)
    assert await flow.fail(CONVERT, {"id": request}, who="desk") == ("BAD_USER_INPUT", "id")
    assert snapshot(flow.engine) == before


@pytest.mark.parametrize(("who", "code"), [("other", "NOT_FOUND"), ("emea_manager", "NOT_FOUND"),
                                           ("manager", "FORBIDDEN"), ("finance", "FORBIDDEN"),
                                           ("analyst", "FORBIDDEN")])
async def test_who_may_not_convert(gateway: Gateway, who: str, code: str) -> None:
    flow = await Workflow(gateway).meet()
    request = qualified(flow, region="NA")
    before = snapshot(flow.engine)
    assert await flow.fail(CONVERT, {"id": request}, who=who) == (code, "id" if code == "NOT_FOUND" else None)
    assert snapshot(flow.engine) == before


async def test_an_unknown_request_is_not_found(gateway: Gateway) -> None:
    flow = await Workflow(gateway).meet()
    assert await flow.fail(CONVERT, {"id": new_id()}, who="desk") == ("NOT_FOUND", "id")
