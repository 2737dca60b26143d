"""Every input check of the deal mutations: BAD_USER_INPUT or NOT_FOUND naming the field, nothing written."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.core.ids import new_id
from tests.support.gateway import Gateway
from tests.support.stores import WITH_JOURNAL
from tests.support.workflow import (
    COMMENT,
    CREATE,
    DECIDE,
    SET_INCENTIVES,
    SET_TIERS,
    SUBMIT,
    UPDATE,
    WITHDRAW,
    Workflow,
    snapshot,
)

STORE_KINDS = WITH_JOURNAL  # also on journaled writes (tests/conftest.py)

OPEN_TIER = {"minSpend": "500000", "cpm": "12.50"}
CREATE_CASES: list[tuple[dict[str, Any], str]] = [
    ({"name": "   "}, "input.name"),
    ({"name": "x" * 201}, "input.name"),
    ({"endDate": "2026-07-01"}, "input.endDate"),
    ({"endDate": "2026-06-30"}, "input.endDate"),
    ({"totalValue": "0"}, "input.totalValue"),
    ({"totalValue": "-5"}, "input.totalValue"),
    ({"totalValue": "10.001"}, "input.totalValue"),
    ({"currency": "XXY"}, "input.currency"),
    ({"channels": []}, "input.channels"),
    ({"channels": ["CTV", "AUDIO", "CTV"]}, "input.channels"),
    ({"targetMarginPct": "100.01"}, "input.targetMarginPct"),
    ({"targetMarginPct": "-1"}, "input.targetMarginPct"),
    ({"floorCpm": "0"}, "input.floorCpm"),
    ({"notes": "n" * 10_001}, "input.notes"),
    ({"nonStandardTerms": "t" * 10_001}, "input.nonStandardTerms"),
    ({"region": "R" * 33}, "input.region"),
    ({"advertiserId": "acme"}, "input.advertiserId"),
    ({"agencyId": "42"}, "input.agencyId"),
    ({"tiers": [{"minSpend": "0", "maxSpend": "500000", "cpm": "14"},
                {"minSpend": "499999.99", "cpm": "12"}]}, "input.tiers[1].minSpend"),
    ({"tiers": [{"minSpend": "0", "cpm": "14"}, OPEN_TIER]}, "input.tiers[0].maxSpend"),
    ({"tiers": [{"minSpend": "100", "maxSpend": "100", "cpm": "14"}]}, "input.tiers[0].maxSpend"),
    ({"tiers": [{"minSpend": "-1", "maxSpend": "100", "cpm": "14"}]}, "input.tiers[0].minSpend"),
    ({"tiers": [{"minSpend": "0", "maxSpend": "100", "cpm": "0"}]}, "input.tiers[0].cpm"),
    ({"tiers": [{"minSpend": "0", "maxSpend": "5", "cpm": "1"}, {**OPEN_TIER, "marginPct": "150"}]},
     "input.tiers[1].marginPct"),
    ({"tiers": [{"minSpend": str(n), "maxSpend": str(n + 1), "cpm": "1"} for n in range(51)]},
     "input.tiers"),
    ({"incentives": [{"type": "AGENCY_REBATE", "unit": "PERCENT", "value": "100.5"}]},
     "input.incentives[0].value"),
    ({"incentives": [{"type": "OTHER", "unit": "AMOUNT", "value": "5"},
                     {"type": "OTHER", "unit": "AMOUNT", "value": "0"}]}, "input.incentives[1].value"),
    ({"incentives": [{"type": "OTHER", "unit": "AMOUNT", "value": "5", "description": "d" * 501}]},
     "input.incentives[0].description"),
]


@pytest.mark.parametrize(("changes", "field"), CREATE_CASES)
async def test_create_deal_input_errors_write_nothing(gateway: Gateway, changes: dict[str, Any],
                                                      field: str) -> None:
    flow = await Workflow(gateway).meet()
    before = snapshot(flow.engine)
    assert await flow.fail(CREATE, {"input": flow.deal_input(**changes)}, who="seller") == (
        "BAD_USER_INPUT", field)
    assert snapshot(flow.engine) == before


@pytest.mark.parametrize("field", ["advertiserId", "agencyId"])
async def test_create_deal_with_unknown_parties_is_not_found(gateway: Gateway, field: str) -> None:
    flow = await Workflow(gateway).meet()
    before = snapshot(flow.engine)
    assert await flow.fail(CREATE, {"input": flow.deal_input(**{field: new_id()})}, who="seller") == (
        "NOT_FOUND", f"input.{field}")
    assert snapshot(flow.engine) == before


UPDATE_CASES: list[tuple[dict[str, Any], str, str]] = [
    ({}, "BAD_USER_INPUT", "input"),
    ({"name": None}, "BAD_USER_INPUT", "input.name"),
    ({"totalValue": None}, "BAD_USER_INPUT", "input.totalValue"),
    ({"totalValue": "0"}, "BAD_USER_INPUT", "input.totalValue"),
    ({"channels": []}, "BAD_USER_INPUT", "input.channels"),
    ({"currency": "EURO"}, "BAD_USER_INPUT", "input.currency"),
    ({"targetMarginPct": "101"}, "BAD_USER_INPUT", "input.targetMarginPct"),
    ({"startDate": "2026-10-01", "endDate": "2026-09-01"}, "BAD_USER_INPUT", "input.endDate"),
    ({"endDate": "2026-06-30"}, "BAD_USER_INPUT", "input.endDate"),  # before the stored start
    ({"startDate": "2026-09-30"}, "BAD_USER_INPUT", "input.startDate"),  # on the stored end
    ({"agencyId": new_id()}, "NOT_FOUND", "input.agencyId"),
]


@pytest.mark.parametrize(("changes", "code", "field"), UPDATE_CASES)
async def test_update_deal_input_errors_write_nothing(gateway: Gateway, changes: dict[str, Any], code: str,
                                                      field: str) -> None:
    flow = await Workflow(gateway).meet()
    deal = await flow.create()
    before = snapshot(flow.engine)
    variables = {"id": deal["id"], "v": 1, "input": changes}
    assert await flow.fail(UPDATE, variables, who="seller") == (code, field)
    assert snapshot(flow.engine) == before


async def test_update_clears_nullable_fields(gateway: Gateway) -> None:
    flow = await Workflow(gateway).meet()
    deal = await flow.create()
    changes = {"agencyId": None, "targetMarginPct": None, "floorCpm": None, "nonStandardTerms": "  "}
    await flow.ok(UPDATE, {"id": deal["id"], "v": 1, "input": changes}, who="seller")
    read = await flow.read(deal["id"])
    assert (read["agency"], read["targetMarginPct"], read["floorCpm"], read["nonStandardTerms"]) == (
        None, None, None, None)


CHILD_CASES: list[tuple[str, dict[str, Any], str]] = [
    (SET_TIERS, {"tiers": [{"minSpend": "0", "maxSpend": "10", "cpm": "1"},
                           {"minSpend": "5", "cpm": "1"}]}, "tiers[1].minSpend"),
    (SET_TIERS, {"tiers": [{"minSpend": "0", "maxSpend": "10", "cpm": "1", "marginPct": "-0.5"}]},
     "tiers[0].marginPct"),
    (SET_INCENTIVES, {"incentives": [{"type": "MAKEGOOD", "unit": "PERCENT", "value": "0"}]},
     "incentives[0].value"),
    (SET_INCENTIVES, {"incentives": [{"type": "MAKEGOOD", "unit": "IMPRESSIONS", "value": "1.00001"}]},
     "incentives[0].value"),
    (WITHDRAW, {"reason": "   "}, "reason"),
    (WITHDRAW, {"reason": "r" * 10_001}, "reason"),
]


@pytest.mark.parametrize(("document", "variables", "field"), CHILD_CASES)
async def test_list_and_reason_errors_write_nothing(gateway: Gateway, document: str,
                                                    variables: dict[str, Any], field: str) -> None:
    flow = await Workflow(gateway).meet()
    deal = await flow.create()
    before = snapshot(flow.engine)
    assert await flow.fail(document, {"id": deal["id"], "v": 1, **variables}, who="seller") == (
        "BAD_USER_INPUT", field)
    assert snapshot(flow.engine) == before


async def test_an_empty_list_clears_tiers_and_incentives(gateway: Gateway) -> None:
    flow = await Workflow(gateway).meet()
    deal = await flow.create()
    await flow.ok(SET_TIERS, {"id": deal["id"], "v": 1, "tiers": []}, who="seller")
    await flow.ok(SET_INCENTIVES, {"id": deal["id"], "v": 2, "incentives": []}, who="seller")
    read = await flow.read(deal["id"])
    assert (read["tiers"], read["incentives"], read["version"]) == ([], [], 3)


async def test_comment_errors_write_nothing(gateway: Gateway) -> None:
    flow = await Workflow(gateway).meet()
    deal = await flow.submit(await flow.create())
    approval = deal["approvals"][0]["id"]
    before = snapshot(flow.engine)
    assert await flow.fail(COMMENT, {"id": approval, "comment": " "}, who="seller") == (
        "BAD_USER_INPUT", "comment")
    variables = {"id": approval, "decision": "APPROVE", "comment": "c" * 10_001}
    assert await flow.fail(DECIDE, variables, who="manager") == ("BAD_USER_INPUT", "comment")
    assert snapshot(flow.engine) == before


@pytest.mark.parametrize(
    ("document", "variables", "field"),
    [
        (UPDATE, {"v": 1, "input": {"name": "x"}}, "id"),
        (SET_TIERS, {"v": 1, "tiers": []}, "dealId"),
        (SET_INCENTIVES, {"v": 1, "incentives": []}, "dealId"),
        (SUBMIT, {"v": 1}, "id"),
        (WITHDRAW, {"v": 1, "reason": "r"}, "id"),
        (DECIDE, {"decision": "APPROVE"}, "approvalId"),
        (COMMENT, {"comment": "c"}, "approvalId"),
    ],
)
async def test_unknown_and_malformed_ids(gateway: Gateway, document: str, variables: dict[str, Any],
                                         field: str) -> None:
    flow = await Workflow(gateway).meet()
    before = snapshot(flow.engine)
    who = "manager" if document is DECIDE else "desk"
    assert await flow.fail(document, {"id": new_id(), **variables}, who=who) == ("NOT_FOUND", field)
    assert await flow.fail(document, {"id": "deal-1", **variables}, who=who) == ("BAD_USER_INPUT", field)
    assert snapshot(flow.engine) == before
