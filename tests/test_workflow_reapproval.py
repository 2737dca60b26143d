"""Smart re-approval: a resubmission carries over the approvals whose watched fields did not change."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gateway.core.settings import Settings
from gateway.core.tables import users
from gateway.store.system_user import SYSTEM_USER_ID
from tests.support.audit import audit_rows
from tests.support.gateway import Gateway
from tests.support.stores import WITH_JOURNAL
from tests.support.workflow import (
    APPROVALS,
    METRICS,
    PREVIEW,
    QUEUE,
    UPDATE,
    Workflow,
    changed_tables,
    hours_between,
    in_round,
    operations,
    pending,
    ruled_gateway,
)

STORE_KINDS = WITH_JOURNAL  # also on journaled writes (tests/conftest.py)
SYSTEM = "system@deal-desk.invalid"


async def changes_requested_by_finance(flow: Workflow) -> dict[str, Any]:
    """A 1.2M deal (SALES_MANAGER, DEAL_DESK, FINANCE): the first two approve, FINANCE asks for changes."""
    deal = await flow.submit(await flow.create())
    deal = await flow.decide(pending(deal)["id"], "APPROVE", who="manager")
    deal = await flow.decide(pending(deal)["id"], "APPROVE", who="desk")
    deal = await flow.decide(pending(deal)["id"], "REQUEST_CHANGES", who="finance", comment="Rebate?")
    assert deal["status"] == "CHANGES_REQUESTED"
    return deal


async def resubmit(flow: Workflow, deal: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """The deal edited by its owner, resubmitted, and read back with its approvals' carry-overs."""
    edited = await flow.ok(UPDATE, {"id": deal["id"], "v": deal["version"], "input": changes}, who="seller")
    await flow.submit(edited)
    read: dict[str, Any] = await flow.ok(APPROVALS, {"id": deal["id"]}, who="admin")
    return read


def statuses(approvals: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(stage, status) of each approval."""
    return [(a["stage"], a["status"]) for a in approvals]


async def test_only_the_notes_changed_so_the_earlier_approvals_carry_over(gateway: Gateway) -> None:
    flow = await Workflow(gateway).meet()
    deal = await changes_requested_by_finance(flow)
    first = in_round(await flow.ok(APPROVALS, {"id": deal["id"]}, who="admin"), 1)

    deal = await resubmit(flow, deal, notes="Rebate explained in the notes")

    second = in_round(deal, 2)
    assert statuses(second) == [("SALES_MANAGER", "APPROVED"), ("DEAL_DESK", "APPROVED"),
                              ("FINANCE", "PENDING")]
    deciders = ("manager@x.test", "desk@x.test")
    for carried, earlier, decider in zip(second[:2], first[:2], deciders, strict=True):
        assert carried["carriedOverFrom"] == {"id": earlier["id"], "stage": earlier["stage"]}
        assert carried["decidedBy"] == {"email": decider} and carried["dueAt"] is None
        [action] = carried["actions"]
        assert (action["action"], action["actor"]["email"]) == ("CARRIED_OVER", SYSTEM)
        assert "carried over from round 1" in action["comment"] and "changed since" in action["comment"]
    assert second[2]["carriedOverFrom"] is None
    assert hours_between(deal["submittedAt"], second[2]["dueAt"]) == 48
    resubmitted = deal["statusHistory"][-1]
    assert (resubmitted["toStatus"], resubmitted["reason"]) == (
        "PENDING_APPROVAL",
        "Carried over, nothing they watch changed since their approval: SALES_MANAGER, DEAL_DESK.")

    # Only FINANCE is asked again; approving it approves the deal.
    assert (await flow.ok(QUEUE, {}, who="desk"))["totalCount"] == 0
    assert (await flow.ok(QUEUE, {}, who="finance"))["totalCount"] == 1
    approved = await flow.decide(second[2]["id"], "APPROVE", who="finance")
    assert approved["status"] == "APPROVED"


async def test_a_carry_over_is_audited_as_the_systems_action_in_the_submission(gateway: Gateway) -> None:
    flow = await Workflow(gateway).meet()
    deal = await changes_requested_by_finance(flow)
    await resubmit(flow, deal, notes="Only the notes")

    submission = operations(flow.engine)[-1]
    assert changed_tables(submission) == sorted(
        [("deals", "UPDATE"), ("deal_status_history", "INSERT")] + [("deal_approvals", "INSERT")] * 3
        + [("approval_actions", "INSERT")] * 2)
    actions = [row["after_json"] for row in submission if row["table_name"] == "approval_actions"]
    assert {(a["action"], a["actor_id"]) for a in actions} == {("CARRIED_OVER", SYSTEM_USER_ID)}
    # The first carry-over wrote the system user, audited in the same operation.
    [system] = audit_rows(flow.engine, users, SYSTEM_USER_ID)
    assert (system["operation"], system["operation_id"]) == ("INSERT", submission[0]["operation_id"])
    assert (system["after_json"]["sub"], system["after_json"]["roles"]) == ("system|deal-desk", "")

    # The next carry-over finds it there.
    deal = await flow.ok(APPROVALS, {"id": deal["id"]}, who="admin")
    deal = await flow.decide(pending(deal)["id"], "REQUEST_CHANGES", who="finance", comment="Again")
    await resubmit(flow, deal, notes="Notes again")
    assert len(audit_rows(flow.engine, users, SYSTEM_USER_ID)) == 1
    assert changed_tables(operations(flow.engine)[-1]).count(("approval_actions", "INSERT")) == 2


async def test_carried_stages_are_not_decisions_in_the_metrics(gateway: Gateway) -> None:
    flow = await Workflow(gateway).meet()
    deal = await changes_requested_by_finance(flow)
    await resubmit(flow, deal, notes="Only the notes")

    metrics = {m["stage"]: m for m in await flow.ok(METRICS, {}, who="admin")}
    assert [metrics[s]["decidedCount"] for s in ("SALES_MANAGER", "DEAL_DESK", "FINANCE")] == [1, 1, 1]
    assert metrics["FINANCE"]["pendingCount"] == 1


async def test_a_changed_value_asks_every_stage_again(gateway: Gateway) -> None:
    flow = await Workflow(gateway).meet()
    deal = await resubmit(flow, await changes_requested_by_finance(flow), totalValue="1300000.00")

    second = in_round(deal, 2)
    assert statuses(second) == [("SALES_MANAGER", "PENDING"), ("DEAL_DESK", "WAITING"),
                              ("FINANCE", "WAITING")]
    assert all(a["carriedOverFrom"] is None and a["actions"] == [] for a in second)
    assert deal["statusHistory"][-1]["reason"] is None


async def test_a_change_a_stage_does_not_watch_keeps_its_approval_and_the_chain_skips_it(
    gateway: Gateway,
) -> None:
    flow = await Workflow(gateway).meet()
    # floorCpm: SALES_MANAGER (always) watches every term, DEAL_DESK only value, currency, tiers and margin.
    deal = await resubmit(flow, await changes_requested_by_finance(flow), floorCpm="13.00")

    second = in_round(deal, 2)
    assert statuses(second) == [("SALES_MANAGER", "PENDING"), ("DEAL_DESK", "APPROVED"),
                              ("FINANCE", "WAITING")]
    deal = await flow.decide(second[0]["id"], "APPROVE", who="manager")
    assert statuses(in_round(deal, 2)) == [("SALES_MANAGER", "APPROVED"), ("DEAL_DESK", "APPROVED"),
                                           ("FINANCE", "PENDING")]


REAPPROVE_ALWAYS = """
[[rules]]
stage = "SALES_MANAGER"
always = true
reapprove = "always"

[[rules]]
stage = "DEAL_DESK"
value_at_least = 100000

[[rules]]
stage = "FINANCE"
value_at_least = 1000000
"""


async def test_reapprove_always_asks_the_stage_again_when_nothing_changed(settings: Settings,
                                                                          tmp_path: Path) -> None:
    async with ruled_gateway(settings, tmp_path / "always.toml", REAPPROVE_ALWAYS) as gateway:
        flow = await Workflow(gateway).meet()
        deal = await changes_requested_by_finance(flow)
        edited = await flow.ok(UPDATE, {"id": deal["id"], "v": deal["version"], "input": {"notes": "Only"}},
                               who="seller")
        preview = await flow.ok(PREVIEW, {"id": deal["id"]}, who="seller")
        await flow.submit(edited)
        deal = await flow.ok(APPROVALS, {"id": deal["id"]}, who="admin")

    second = in_round(deal, 2)
    assert statuses(second) == [("SALES_MANAGER", "PENDING"), ("DEAL_DESK", "APPROVED"),
                                ("FINANCE", "WAITING")]
    assert second[0]["carriedOverFrom"] is None and second[1]["carriedOverFrom"] is not None
    assert [p["carriedOver"] for p in preview] == [False, True, False]
    assert preview[0]["reasons"][-1] == (
        'SALES_MANAGER: approved in round 1, asked again: reapprove = "always"')


async def test_a_carry_over_of_a_carry_over_names_the_approval_a_person_gave(gateway: Gateway) -> None:
    flow = await Workflow(gateway).meet()
    deal = await changes_requested_by_finance(flow)
    first = in_round(await flow.ok(APPROVALS, {"id": deal["id"]}, who="admin"), 1)
    deal = await resubmit(flow, deal, notes="Second try")
    deal = await flow.decide(in_round(deal, 2)[2]["id"], "REQUEST_CHANGES", who="finance", comment="Still?")
    deal = await resubmit(flow, deal, notes="Third try")

    third = in_round(deal, 3)
    assert statuses(third) == [("SALES_MANAGER", "APPROVED"), ("DEAL_DESK", "APPROVED"),
                             ("FINANCE", "PENDING")]
    assert [a["carriedOverFrom"]["id"] for a in third[:2]] == [a["id"] for a in first[:2]]
