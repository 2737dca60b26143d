"""Illegal transitions, stale versions and decided approvals: CONFLICT, and nothing written."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.core.tables import DEAL_STATUSES
from gateway.workflow.transitions import EDITABLE, TRANSITIONS
from tests.support.gateway import Gateway
from tests.support.stores import WITH_JOURNAL
from tests.support.workflow import (
    CLOSE,
    DECIDE,
    SET_INCENTIVES,
    SET_TIERS,
    SUBMIT,
    UPDATE,
    WITHDRAW,
    Workflow,
    pending,
    snapshot,
)

STORE_KINDS = WITH_JOURNAL  # also on journaled writes (tests/conftest.py)

# mutation -> (document, extra variables, the statuses it may start from)
MUTATIONS: dict[str, tuple[str, dict[str, Any], frozenset[str]]] = {
    "updateDeal": (UPDATE, {"input": {"notes": "n"}}, EDITABLE),
    "setDealTiers": (SET_TIERS, {"tiers": []}, EDITABLE),
    "setDealIncentives": (SET_INCENTIVES, {"incentives": []}, EDITABLE),
    "submitDeal": (SUBMIT, {}, frozenset({"DRAFT", "CHANGES_REQUESTED"})),
    "withdrawDeal": (WITHDRAW, {"reason": "r"}, frozenset({"DRAFT", "PENDING_APPROVAL", "CHANGES_REQUESTED",
                                                           "APPROVED"})),
    "closeDeal": (CLOSE, {"won": True}, frozenset({"APPROVED"})),
}


def test_the_transition_table_is_the_products() -> None:
    allowed = {(a, b) for a, targets in TRANSITIONS.items() for b in targets}
    assert allowed == {
        ("DRAFT", "PENDING_APPROVAL"), ("PENDING_APPROVAL", "APPROVED"), ("PENDING_APPROVAL", "REJECTED"),
        ("PENDING_APPROVAL", "CHANGES_REQUESTED"), ("CHANGES_REQUESTED", "PENDING_APPROVAL"),
        ("APPROVED", "CLOSED_WON"), ("APPROVED", "CLOSED_LOST"), ("DRAFT", "WITHDRAWN"),
        ("PENDING_APPROVAL", "WITHDRAWN"), ("CHANGES_REQUESTED", "WITHDRAWN"), ("APPROVED", "WITHDRAWN"),
    }


@pytest.mark.parametrize("status", DEAL_STATUSES)
@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
async def test_each_mutation_from_each_status(gateway: Gateway, mutation: str, status: str) -> None:
    flow = await Workflow(gateway).meet()
    deal = gateway.data.deal(owner=flow.user_id("seller"), advertiser=flow.advertiser, status=status,
                             version=3)
    document, extra, allowed = MUTATIONS[mutation]
    before = snapshot(flow.engine)

    if status in allowed:
        changed = await flow.ok(document, {"id": deal, "v": 3, **extra}, who="seller")
        assert changed["version"] == 4
        return
    assert await flow.fail(document, {"id": deal, "v": 3, **extra}, who="seller") == ("CONFLICT", None)
    assert snapshot(flow.engine) == before


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
@pytest.mark.parametrize("stale", [1, 3])
async def test_a_stale_expected_version_is_a_conflict(gateway: Gateway, mutation: str, stale: int) -> None:
    flow = await Workflow(gateway).meet()
    document, extra, _ = MUTATIONS[mutation]
    status = "APPROVED" if mutation == "closeDeal" else "DRAFT"
    deal = gateway.data.deal(owner=flow.user_id("seller"), advertiser=flow.advertiser, status=status,
                             version=2)
    before = snapshot(flow.engine)

    code, field = await flow.fail(document, {"id": deal, "v": stale, **extra}, who="seller")

    assert (code, field) == ("CONFLICT", "expectedVersion")
    assert snapshot(flow.engine) == before
    assert (await flow.read(deal))["version"] == 2


async def test_a_decided_approval_cannot_be_decided_again(gateway: Gateway) -> None:
    flow = await Workflow(gateway).meet()
    deal = await flow.submit(await flow.create())
    first = pending(deal)["id"]
    await flow.decide(first, "APPROVE", who="manager")
    before = snapshot(flow.engine)

    for decision in ("APPROVE", "REJECT", "REQUEST_CHANGES"):
        variables = {"id": first, "decision": decision}
        assert await flow.fail(DECIDE, variables, who="manager") == ("CONFLICT", "approvalId")
    assert snapshot(flow.engine) == before


async def test_waiting_and_cancelled_stages_cannot_be_decided(gateway: Gateway) -> None:
    flow = await Workflow(gateway).meet()
    deal = await flow.submit(await flow.create())
    finance_stage = deal["approvals"][2]["id"]
    variables = {"id": finance_stage, "decision": "APPROVE"}
    assert await flow.fail(DECIDE, variables, who="finance") == ("CONFLICT", "approvalId")

    await flow.ok(WITHDRAW, {"id": deal["id"], "v": deal["version"], "reason": "r"}, who="seller")
    before = snapshot(flow.engine)
    assert await flow.fail(DECIDE, {"id": deal["approvals"][0]["id"], "decision": "APPROVE"},
                           who="manager") == ("CONFLICT", "approvalId")
    assert snapshot(flow.engine) == before
