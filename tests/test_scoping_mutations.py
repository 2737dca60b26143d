"""createScopingRequest and setScopingStatus: who may, validation, transitions and their audit records."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from gateway.core.ids import new_id
from gateway.core.tables import deal_scoping_requests
from tests.support.audit import audit_rows, count, mutation_audit_count
from tests.support.gateway import Gateway
from tests.support.stores import WITH_JOURNAL

STORE_KINDS = WITH_JOURNAL  # also on journaled writes (tests/conftest.py)

CREATE = """
mutation Create($input: CreateScopingRequestInput!) {
  createScopingRequest(input: $input) {
    id title objective status estimatedBudget currency desiredStart desiredEnd
    requestedBy { email } advertiser { name } agency { name } convertedDeal { id }
  }
}
"""
SET_STATUS = """
mutation Set($id: ID!, $status: ScopingStatus!, $reason: String) {
  setScopingStatus(id: $id, status: $status, reason: $reason) { id status }
}
"""
ROLES = ["SELLER", "SALES_MANAGER", "DEAL_DESK", "FINANCE", "LEGAL", "EXECUTIVE", "ANALYST", "ADMIN"]
CREATORS = {"SELLER", "SALES_MANAGER", "DEAL_DESK", "ADMIN"}
DESK = {"DEAL_DESK", "ADMIN"}
ALL_STATUSES = ["OPEN", "IN_REVIEW", "QUALIFIED", "DECLINED", "CONVERTED"]
ALLOWED = {("OPEN", "IN_REVIEW"), ("OPEN", "DECLINED"), ("IN_REVIEW", "QUALIFIED"),
           ("IN_REVIEW", "DECLINED"), ("IN_REVIEW", "OPEN"), ("QUALIFIED", "IN_REVIEW"),
           ("QUALIFIED", "DECLINED")}


def caller(gateway: Gateway, role: str, region: str | None = "EMEA") -> str:
    """A token of a user holding `role`; their users row is created on first request."""
    return gateway.token(f"{role.lower()}@x.test", role, region=region)


def parties(gateway: Gateway) -> dict[str, str]:
    """An advertiser and an agency."""
    return {"advertiserId": gateway.data.advertiser("Acme"), "agencyId": gateway.data.agency("Zenith")}


def full_input(ids: dict[str, str], **changes: Any) -> dict[str, Any]:
    """A valid CreateScopingRequestInput with `changes` applied."""
    return {"title": "  Acme Q3 CTV  ", "objective": "Reach cord cutters.", **ids,
            "estimatedBudget": "250000.50", "currency": "eur", "desiredStart": "2026-07-01",
            "desiredEnd": "2026-09-30", **changes}


def writes(gateway: Gateway) -> tuple[int, int]:
    """Scoping requests and their audit records stored."""
    engine = gateway.data.engine
    return count(engine, deal_scoping_requests), mutation_audit_count(engine)


def error_of(body: dict[str, Any]) -> tuple[str, str | None]:
    """Code and field of the single error of a response."""
    [error] = body["errors"]
    return error["extensions"]["code"], error["extensions"].get("field")


async def test_create_stores_an_open_request_of_the_caller(gateway: Gateway) -> None:
    ids = parties(gateway)
    data = await gateway.data_of(CREATE, {"input": full_input(ids)}, token=caller(gateway, "SELLER"))

    made = data["createScopingRequest"]
    assert made | {"id": None} == {
        "id": None, "title": "Acme Q3 CTV", "objective": "Reach cord cutters.", "status": "OPEN",
        "estimatedBudget": "250000.50", "currency": "EUR", "desiredStart": "2026-07-01",
        "desiredEnd": "2026-09-30", "requestedBy": {"email": "seller@x.test"},
        "advertiser": {"name": "Acme"}, "agency": {"name": "Zenith"}, "convertedDeal": None,
    }
    with gateway.data.engine.connect() as connection:
        row = connection.execute(select(deal_scoping_requests)).one()
    assert (row.id, row.region, row.status) == (made["id"], "EMEA", "OPEN")


async def test_region_falls_back_to_the_users_row(gateway: Gateway) -> None:
    ids = parties(gateway)
    gateway.data.user("seller@x.test", "SELLER", region="APAC")
    token = caller(gateway, "SELLER", region=None)
    await gateway.data_of(CREATE, {"input": {"title": "T", "advertiserId": ids["advertiserId"]}}, token=token)

    with gateway.data.engine.connect() as connection:
        assert connection.execute(select(deal_scoping_requests.c.region)).scalar_one() == "APAC"


@pytest.mark.parametrize("role", ROLES)
async def test_who_may_create(gateway: Gateway, role: str) -> None:
    ids = parties(gateway)
    body = await gateway.query(CREATE, {"input": full_input(ids)}, token=caller(gateway, role))

    if role in CREATORS:
        assert "errors" not in body and body["data"]["createScopingRequest"]["status"] == "OPEN"
        assert writes(gateway) == (1, 1)
    else:
        assert error_of(body) == ("FORBIDDEN", None) and body["data"] is None
        assert writes(gateway) == (0, 0)


INVALID = [
    ({"title": "   "}, "BAD_USER_INPUT", "input.title"),
    ({"title": "x" * 201}, "BAD_USER_INPUT", "input.title"),
    ({"objective": "x" * 10_001}, "BAD_USER_INPUT", "input.objective"),
    ({"estimatedBudget": "0"}, "BAD_USER_INPUT", "input.estimatedBudget"),
    ({"estimatedBudget": "-10"}, "BAD_USER_INPUT", "input.estimatedBudget"),
    ({"estimatedBudget": "10.001"}, "BAD_USER_INPUT", "input.estimatedBudget"),
    ({"currency": "XYZ"}, "BAD_USER_INPUT", "input.currency"),
    ({"desiredEnd": "2026-07-01"}, "BAD_USER_INPUT", "input.desiredEnd"),
    ({"desiredEnd": "2026-06-01"}, "BAD_USER_INPUT", "input.desiredEnd"),
    ({"advertiserId": "acme"}, "BAD_USER_INPUT", "input.advertiserId"),
    ({"agencyId": "zenith"}, "BAD_USER_INPUT", "input.agencyId"),
    ({"advertiserId": new_id()}, "NOT_FOUND", "input.advertiserId"),
    ({"agencyId": new_id()}, "NOT_FOUND", "input.agencyId"),
]


@pytest.mark.parametrize(("changes", "code", "field"), INVALID)
async def test_invalid_input_writes_nothing(gateway: Gateway, changes: dict[str, Any], code: str,
                                            field: str) -> None:
    ids = parties(gateway)
    body = await gateway.query(CREATE, {"input": full_input(ids, **changes)}, token=caller(gateway, "SELLER"))

    assert error_of(body) == (code, field)
    assert writes(gateway) == (0, 0)


async def test_the_agency_and_budget_are_optional(gateway: Gateway) -> None:
    ids = parties(gateway)
    minimal = {"title": "Just a title", "advertiserId": ids["advertiserId"]}
    data = await gateway.data_of(CREATE, {"input": minimal}, token=caller(gateway, "DEAL_DESK"))

    made = data["createScopingRequest"]
    assert (made["agency"], made["estimatedBudget"], made["currency"]) == (None, None, "USD")


async def test_create_is_audited(gateway: Gateway) -> None:
    ids = parties(gateway)
    response = await gateway.post(CREATE, {"input": full_input(ids)}, token=caller(gateway, "SELLER"),
                                  headers={"x-request-id": "req-create-1"})
    made = response.json()["data"]["createScopingRequest"]

    [record] = audit_rows(gateway.data.engine, deal_scoping_requests, made["id"])
    assert (record["operation"], record["actor_sub"], record["request_id"], record["before_json"]) == (
        "INSERT", "dev|seller@x.test", "req-create-1", None)
    after = record["after_json"]
    assert (after["title"], after["status"], after["region"], after["estimated_budget"]) == (
        "Acme Q3 CTV", "OPEN", "EMEA", "250000.50")
    assert after["requested_by"] == record["actor_user_id"]


def request_in(gateway: Gateway, status: str) -> str:
    """A scoping request in `status`, requested by a seller."""
    seller = gateway.data.user("ann@x.test", "SELLER")
    advertiser = gateway.data.advertiser("Acme")
    return gateway.data.scoping(requested_by=seller, advertiser=advertiser, status=status)


@pytest.mark.parametrize("to_status", ALL_STATUSES)
@pytest.mark.parametrize("from_status", ALL_STATUSES)
async def test_transitions(gateway: Gateway, from_status: str, to_status: str) -> None:
    request_id = request_in(gateway, from_status)
    variables = {"id": request_id, "status": to_status, "reason": "because"}
    body = await gateway.query(SET_STATUS, variables, token=caller(gateway, "DEAL_DESK"))

    with gateway.data.engine.connect() as connection:
        stored = connection.execute(select(deal_scoping_requests.c.status)).scalar_one()
    if (from_status, to_status) in ALLOWED:
        assert body["data"]["setScopingStatus"] == {"id": request_id, "status": to_status}
        assert stored == to_status
    else:
        assert error_of(body) == ("CONFLICT", "status")
        assert stored == from_status and mutation_audit_count(gateway.data.engine) == 0


@pytest.mark.parametrize("role", ROLES)
async def test_who_may_set_the_status(gateway: Gateway, role: str) -> None:
    request_id = request_in(gateway, "OPEN")
    body = await gateway.query(SET_STATUS, {"id": request_id, "status": "IN_REVIEW"},
                               token=caller(gateway, role))

    if role in DESK:
        assert body["data"]["setScopingStatus"]["status"] == "IN_REVIEW"
    else:
        assert error_of(body) == ("FORBIDDEN", None)
        assert mutation_audit_count(gateway.data.engine) == 0


async def test_the_requester_may_not_set_the_status(gateway: Gateway) -> None:
    request_id = request_in(gateway, "OPEN")
    body = await gateway.query(SET_STATUS, {"id": request_id, "status": "DECLINED"},
                               token=gateway.token("ann@x.test", "SELLER"))
    assert error_of(body) == ("FORBIDDEN", None)


@pytest.mark.parametrize(("request_id", "code"), [(new_id(), "NOT_FOUND"), ("nope", "BAD_USER_INPUT")])
async def test_unknown_request(gateway: Gateway, request_id: str, code: str) -> None:
    body = await gateway.query(SET_STATUS, {"id": request_id, "status": "IN_REVIEW"},
                               token=caller(gateway, "ADMIN"))
    assert error_of(body) == (code, "id")


async def test_status_change_is_audited_with_its_reason(gateway: Gateway) -> None:
    request_id = request_in(gateway, "OPEN")
    token = caller(gateway, "DEAL_DESK")
    await gateway.data_of(SET_STATUS, {"id": request_id, "status": "IN_REVIEW", "reason": "  Looks real "},
                          token=token)
    await gateway.data_of(SET_STATUS, {"id": request_id, "status": "DECLINED"}, token=token)

    first, second = audit_rows(gateway.data.engine, deal_scoping_requests, request_id)
    assert (first["operation"], first["reason"], first["actor_sub"]) == ("UPDATE", "Looks real",
                                                                         "dev|deal_desk@x.test")
    assert (first["before_json"]["status"], first["after_json"]["status"]) == ("OPEN", "IN_REVIEW")
    assert (second["reason"], second["after_json"]["status"]) == (None, "DECLINED")
    assert first["operation_id"] != second["operation_id"]


async def test_reason_length_is_bounded(gateway: Gateway) -> None:
    request_id = request_in(gateway, "OPEN")
    body = await gateway.query(SET_STATUS, {"id": request_id, "status": "IN_REVIEW", "reason": "x" * 10_001},
                               token=caller(gateway, "DEAL_DESK"))
    assert error_of(body) == ("BAD_USER_INPUT", "reason")
    assert mutation_audit_count(gateway.data.engine) == 0
