"""The whole life of a 1.2M deal through HTTP: create, edit, submit, three approvals, closed won."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.support.gateway import Gateway
from tests.support.stores import WITH_JOURNAL
from tests.support.workflow import (
    CLOSE,
    CREATE,
    SET_INCENTIVES,
    SET_TIERS,
    UPDATE,
    Workflow,
    changed_tables,
    operations,
    pending,
    snapshot,
)

STORE_KINDS = WITH_JOURNAL  # also on journaled writes (tests/conftest.py)


def parse(moment: str) -> dt.datetime:
    """A DateTime of the API."""
    return dt.datetime.fromisoformat(moment)


async def test_create_stores_a_draft_with_tiers_incentives_and_history(gateway: Gateway) -> None:
    flow = await Workflow(gateway).meet()

    created = await flow.create()
    deal = await flow.read(created["id"])

    year = dt.datetime.now(dt.UTC).year
    assert deal["dealNumber"] == f"DD-{year}-000001" and (deal["status"], deal["version"]) == ("DRAFT", 1)
    assert (deal["owner"]["email"], deal["region"], deal["currency"]) == ("seller@x.test", "NA", "USD")
    assert deal["channels"] == ["CTV", "VIDEO"] and deal["totalValue"] == "1200000.00"
    assert [(t["tierNumber"], t["minSpend"], t["maxSpend"], t["marginPct"]) for t in deal["tiers"]] == [
        (1, "0.00", "500000.00", "38.0000"), (2, "500000.00", None, "32.0000")]
    assert [(i["type"], i["unit"], i["value"]) for i in deal["incentives"]] == [
        ("AGENCY_REBATE", "PERCENT", "3.5000"), ("ADDED_VALUE", "IMPRESSIONS", "500000.0000")]
    assert deal["approvals"] == [] and deal["submittedAt"] is None
    assert [(h["fromStatus"], h["toStatus"]) for h in deal["statusHistory"]] == [(None, "DRAFT")]
    [operation] = operations(flow.engine)
    assert changed_tables(operation) == sorted(
        [("deals", "INSERT"), ("deal_status_history", "INSERT")] + [("deal_tiers", "INSERT")] * 2
        + [("incentive_values", "INSERT")] * 2)


async def test_deal_numbers_count_up_per_year(gateway: Gateway) -> None:
    flow = await Workflow(gateway).meet()
    numbers = [(await flow.create(who=who))["dealNumber"] for who in ("seller", "desk", "manager")]
    year = dt.datetime.now(dt.UTC).year
    assert numbers == [f"DD-{year}-00000{n}" for n in (1, 2, 3)]


async def test_region_defaults_to_the_callers_and_may_be_named(gateway: Gateway) -> None:
    flow = await Workflow(gateway).meet()
    assert (await flow.create(who="emea_manager"))["region"] == "EMEA"
    assert (await flow.create(who="seller", region=" APAC "))["region"] == "APAC"
    assert (await flow.create(who="admin", region="LATAM"))["region"] == "LATAM"
    no_region = await flow.fail(CREATE, {"input": flow.deal_input()}, who="admin")
    assert no_region == ("BAD_USER_INPUT", "input.region")


async def edit(flow: Workflow, deal: dict[str, Any]) -> dict[str, Any]:
    """Update, replace tiers, replace incentives: the version goes up by one each time."""
    deal = await flow.ok(UPDATE, {"id": deal["id"], "v": deal["version"],
                                  "input": {"name": "Acme Q3 CTV+", "notes": None, "endDate": "2026-10-31"}},
                         who="seller")
    assert (deal["name"], deal["notes"], deal["endDate"], deal["version"]) == (
        "Acme Q3 CTV+", None, "2026-10-31", 2)
    tiers = [{"minSpend": "0", "maxSpend": "600000", "cpm": "14.5", "marginPct": "36"},
             {"minSpend": "600000", "maxSpend": None, "cpm": "12", "marginPct": "31"}]
    deal = await flow.ok(SET_TIERS, {"id": deal["id"], "v": 2, "tiers": tiers}, who="seller")
    assert [(t["tierNumber"], t["maxSpend"]) for t in deal["tiers"]] == [(1, "600000.00"), (2, None)]
    incentives = [{"type": "VOLUME_BONUS", "unit": "PERCENT", "value": "2"}]
    deal = await flow.ok(SET_INCENTIVES, {"id": deal["id"], "v": 3, "incentives": incentives}, who="seller")
    assert deal["version"] == 4
    return deal


async def test_the_whole_life_of_a_deal(gateway: Gateway) -> None:
    flow = await Workflow(gateway).meet()
    deal = await edit(flow, await flow.create())

    deal = await flow.submit(deal)
    assert (deal["status"], deal["version"]) == ("PENDING_APPROVAL", 5)
    assert [(a["stage"], a["sequence"], a["status"]) for a in deal["approvals"]] == [
        ("SALES_MANAGER", 1, "PENDING"), ("DEAL_DESK", 2, "WAITING"), ("FINANCE", 3, "WAITING")]
    first = deal["approvals"][0]
    assert parse(first["dueAt"]) - parse(deal["submittedAt"]) == dt.timedelta(hours=48)
    assert deal["approvals"][1]["dueAt"] is None

    for who, stage in (("manager", "SALES_MANAGER"), ("desk", "DEAL_DESK"), ("finance", "FINANCE")):
        approval = pending(deal)
        assert approval["stage"] == stage
        deal = await flow.decide(approval["id"], "APPROVE", who=who, comment=f"ok from {who}")
    assert (deal["status"], deal["version"]) == ("APPROVED", 6)
    assert [a["status"] for a in deal["approvals"]] == ["APPROVED"] * 3
    assert [a["decidedBy"]["email"] for a in deal["approvals"]] == [
        "manager@x.test", "desk@x.test", "finance@x.test"]
    assert [a["actions"] for a in deal["approvals"]][1] == [
        {"action": "APPROVE", "comment": "ok from desk", "actor": {"email": "desk@x.test"}}]

    deal = await flow.ok(CLOSE, {"id": deal["id"], "v": 6, "won": True, "reason": "Signed"}, who="seller")
    assert (deal["status"], deal["version"]) == ("CLOSED_WON", 7)
    assert [(h["fromStatus"], h["toStatus"], h["changedBy"]["email"]) for h in deal["statusHistory"]] == [
        (None, "DRAFT", "seller@x.test"), ("DRAFT", "PENDING_APPROVAL", "seller@x.test"),
        ("PENDING_APPROVAL", "APPROVED", "finance@x.test"), ("APPROVED", "CLOSED_WON", "seller@x.test")]
    assert deal["statusHistory"][-1]["reason"] == "Signed"


async def test_each_stage_becomes_due_when_it_is_reached(gateway: Gateway) -> None:
    flow = await Workflow(gateway).meet()
    deal = await flow.submit(await flow.create())
    deal = await flow.decide(pending(deal)["id"], "APPROVE", who="manager")
    second = deal["approvals"][1]
    assert second["status"] == "PENDING"
    assert parse(second["dueAt"]) - parse(deal["approvals"][0]["decidedAt"]) == dt.timedelta(hours=48)
    assert deal["version"] == 2  # an approval with a stage after it leaves the deal itself unchanged


async def test_every_operation_is_audited_with_before_after_and_request_id(gateway: Gateway) -> None:
    flow = await Workflow(gateway).meet()
    deal = await flow.create()
    response = await gateway.post(UPDATE, {"id": deal["id"], "v": 1, "input": {"totalValue": "1300000"}},
                                  token=flow.tokens["seller"], headers={"X-Request-Id": "req-update-1"})
    assert "errors" not in response.json()

    [_, update] = operations(flow.engine)
    [row] = update
    assert (row["table_name"], row["operation"], row["row_id"]) == ("deals", "UPDATE", deal["id"])
    assert (row["before_json"]["total_value"], row["after_json"]["total_value"]) == ("1200000.00", "1300000")
    assert (row["before_json"]["version"], row["after_json"]["version"]) == (1, 2)
    assert row["request_id"] == "req-update-1" and row["actor_sub"] == "dev|seller@x.test"


async def test_submit_and_decisions_audit_every_row_they_write(gateway: Gateway) -> None:
    flow = await Workflow(gateway).meet()
    deal = await flow.submit(await flow.create())
    deal = await flow.decide(pending(deal)["id"], "APPROVE", who="manager")
    await flow.decide(pending(deal)["id"], "REJECT", who="desk", comment="Too cheap")

    _, submit, approve, reject = operations(flow.engine)
    assert changed_tables(submit) == sorted(
        [("deals", "UPDATE"), ("deal_status_history", "INSERT")] + [("deal_approvals", "INSERT")] * 3)
    claim = [("deals", "UPDATE")] if gateway.app.state.db.journaled else []  # the journal claims the deal
    assert changed_tables(approve) == sorted(
        [("deal_approvals", "UPDATE")] * 2 + [("approval_actions", "INSERT")] + claim)
    assert changed_tables(reject) == sorted(
        [("deal_approvals", "UPDATE")] * 2 + [("approval_actions", "INSERT"), ("deals", "UPDATE"),
                                              ("deal_status_history", "INSERT")])
    assert {row["reason"] for row in reject} == {"Too cheap"}


async def test_the_owner_may_not_approve_even_holding_the_stage_role(gateway: Gateway) -> None:
    flow = await Workflow(gateway).meet()
    deal = await flow.submit(await flow.create(who="boss"), who="boss")
    before = snapshot(flow.engine)

    variables = {"id": pending(deal)["id"], "decision": "APPROVE"}
    assert await flow.fail(*decide_args(variables), who="boss") == ("FORBIDDEN", None)

    assert snapshot(flow.engine) == before
    deal = await flow.decide(pending(deal)["id"], "APPROVE", who="manager")
    assert await flow.fail(*decide_args({"id": pending(deal)["id"], "decision": "APPROVE"}),
                           who="boss") == ("FORBIDDEN", None)


def decide_args(variables: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The decideApproval document and its variables."""
    from tests.support.workflow import DECIDE

    return DECIDE, variables
