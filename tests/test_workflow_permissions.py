"""Who may run each workflow mutation: FORBIDDEN for the wrong role, NOT_FOUND for a deal one cannot see."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.gateway import Gateway
from tests.support.stores import WITH_JOURNAL
from tests.support.workflow import (
    CLOSE,
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

CREATE_OUTCOMES = {"seller": None, "manager": None, "desk": None, "finance": "FORBIDDEN",
                   "legal": "FORBIDDEN", "executive": "FORBIDDEN", "analyst": "FORBIDDEN"}


@pytest.mark.parametrize(("who", "code"), CREATE_OUTCOMES.items())
async def test_who_may_create_a_deal(gateway: Gateway, who: str, code: str | None) -> None:
    flow = await Workflow(gateway).meet()
    before = snapshot(flow.engine)
    variables = {"input": flow.deal_input(region="NA")}
    if code is None:
        assert (await flow.ok(CREATE, variables, who=who))["owner"]["email"].startswith(who[:4])
        return
    assert await flow.fail(CREATE, variables, who=who) == (code, None)
    assert snapshot(flow.engine) == before


# Each caller on a DRAFT deal of the NA seller: None = allowed.
OWNER_RULE = {"seller": None, "desk": None, "admin": None, "other": "NOT_FOUND", "emea_manager": "NOT_FOUND",
              "manager": "FORBIDDEN", "finance": "FORBIDDEN", "legal": "FORBIDDEN", "executive": "FORBIDDEN",
              "analyst": "FORBIDDEN"}
DOCUMENTS: dict[str, tuple[str, dict[str, Any]]] = {
    "updateDeal": (UPDATE, {"input": {"notes": "n"}}),
    "setDealTiers": (SET_TIERS, {"tiers": []}),
    "setDealIncentives": (SET_INCENTIVES, {"incentives": []}),
    "submitDeal": (SUBMIT, {}),
    "withdrawDeal": (WITHDRAW, {"reason": "r"}),
    "closeDeal": (CLOSE, {"won": False}),
}


@pytest.mark.parametrize("mutation", sorted(DOCUMENTS))
@pytest.mark.parametrize(("who", "code"), OWNER_RULE.items())
async def test_owner_desk_and_admin_rule(gateway: Gateway, mutation: str, who: str, code: str | None) -> None:
    flow = await Workflow(gateway).meet()
    status = "APPROVED" if mutation == "closeDeal" else "DRAFT"
    deal = gateway.data.deal(owner=flow.user_id("seller"), advertiser=flow.advertiser, status=status)
    document, extra = DOCUMENTS[mutation]
    before = snapshot(flow.engine)
    if code is None:
        assert (await flow.ok(document, {"id": deal, "v": 1, **extra}, who=who))["version"] == 2
        return
    expected_field = "dealId" if code == "NOT_FOUND" and mutation.startswith("set") else None
    expected_field = "id" if code == "NOT_FOUND" and expected_field is None else expected_field
    assert await flow.fail(document, {"id": deal, "v": 1, **extra}, who=who) == (code, expected_field)
    assert snapshot(flow.engine) == before


# Each caller on the PENDING SALES_MANAGER stage of an NA deal owned by the seller.
DECIDERS = {"manager": None, "emea_manager": "NOT_FOUND", "other": "FORBIDDEN", "seller": "FORBIDDEN",
            "desk": "FORBIDDEN", "finance": "FORBIDDEN", "analyst": "FORBIDDEN", "admin": "FORBIDDEN",
            "emea_desk_manager": "FORBIDDEN"}


@pytest.mark.parametrize(("who", "code"), DECIDERS.items())
async def test_who_may_decide_the_sales_manager_stage(gateway: Gateway, who: str, code: str | None) -> None:
    flow = await Workflow(gateway).meet()
    flow.tokens["emea_desk_manager"] = gateway.token("emd@x.test", "SALES_MANAGER", "DEAL_DESK",
                                                     region="EMEA")
    await gateway.data_of("{ me { id } }", token=flow.tokens["emea_desk_manager"])
    deal = await flow.submit(await flow.create())
    before = snapshot(flow.engine)
    variables = {"id": deal["approvals"][0]["id"], "decision": "APPROVE"}
    if code is None:
        assert (await flow.ok(DECIDE, variables, who=who))["approvals"][0]["status"] == "APPROVED"
        return
    field = "approvalId" if code == "NOT_FOUND" else None
    assert await flow.fail(DECIDE, variables, who=who) == (code, field)
    assert snapshot(flow.engine) == before


async def test_later_stages_are_decided_by_their_role_in_any_region(gateway: Gateway) -> None:
    flow = await Workflow(gateway).meet()
    deal = await flow.submit(await flow.create())
    deal = await flow.decide(deal["approvals"][0]["id"], "APPROVE", who="manager")
    desk_stage = {"id": deal["approvals"][1]["id"], "decision": "APPROVE"}
    assert await flow.fail(DECIDE, desk_stage, who="manager") == ("FORBIDDEN", None)
    assert await flow.fail(DECIDE, desk_stage, who="finance") == ("FORBIDDEN", None)
    assert (await flow.ok(DECIDE, desk_stage, who="boss"))["approvals"][1]["status"] == "APPROVED"


@pytest.mark.parametrize(("who", "code"), [("analyst", "FORBIDDEN"), ("other", "NOT_FOUND"),
                                           ("emea_manager", "NOT_FOUND")])
async def test_who_may_not_comment(gateway: Gateway, who: str, code: str) -> None:
    flow = await Workflow(gateway).meet()
    deal = await flow.submit(await flow.create())
    before = snapshot(flow.engine)
    variables = {"id": deal["approvals"][0]["id"], "comment": "hello"}
    field = "approvalId" if code == "NOT_FOUND" else None
    assert await flow.fail(COMMENT, variables, who=who) == (code, field)
    assert snapshot(flow.engine) == before


@pytest.mark.parametrize("who", ["manager", "desk", "finance", "legal", "executive", "admin", "seller"])
async def test_who_may_comment(gateway: Gateway, who: str) -> None:
    flow = await Workflow(gateway).meet()
    deal = await flow.submit(await flow.create())
    action = await flow.ok(COMMENT, {"id": deal["approvals"][0]["id"], "comment": "hello"}, who=who)
    assert action["action"] == "COMMENT"
