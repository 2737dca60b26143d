"""The other ways out of the approval chain: reject, request changes and resubmit, withdraw, close lost."""

from __future__ import annotations

from tests.support.gateway import Gateway
from tests.support.stores import WITH_JOURNAL
from tests.support.workflow import CLOSE, COMMENT, UPDATE, WITHDRAW, Workflow, operations, pending

STORE_KINDS = WITH_JOURNAL  # also on journaled writes (tests/conftest.py)


async def test_reject_cancels_the_later_stages(gateway: Gateway) -> None:
    flow = await Workflow(gateway).meet()
    deal = await flow.submit(await flow.create())
    deal = await flow.decide(pending(deal)["id"], "APPROVE", who="manager")

    deal = await flow.decide(pending(deal)["id"], "REJECT", who="desk", comment="Margin too thin")

    assert (deal["status"], deal["version"]) == ("REJECTED", 3)
    assert [a["status"] for a in deal["approvals"]] == ["APPROVED", "REJECTED", "CANCELLED"]
    assert deal["approvals"][1]["actions"] == [
        {"action": "REJECT", "comment": "Margin too thin", "actor": {"email": "desk@x.test"}}]
    assert deal["statusHistory"][-1] == {"fromStatus": "PENDING_APPROVAL", "toStatus": "REJECTED",
                                         "reason": "Margin too thin", "changedBy": {"email": "desk@x.test"}}


async def test_request_changes_then_edit_and_resubmit_builds_round_two(gateway: Gateway) -> None:
    flow = await Workflow(gateway).meet()
    deal = await flow.submit(await flow.create())
    first_round = deal["approvals"]
    deal = await flow.decide(pending(deal)["id"], "REQUEST_CHANGES", who="manager", comment="Lower the CPM")
    assert (deal["status"], deal["version"]) == ("CHANGES_REQUESTED", 3)
    assert [a["status"] for a in deal["approvals"]] == ["CHANGES_REQUESTED", "CANCELLED", "CANCELLED"]

    deal = await flow.ok(UPDATE, {"id": deal["id"], "v": 3, "input": {"totalValue": "90000"}}, who="seller")
    deal = await flow.submit(deal)

    assert (deal["status"], deal["version"]) == ("PENDING_APPROVAL", 5)
    old, new = deal["approvals"][:3], deal["approvals"][3:]
    assert [a["id"] for a in old] == [a["id"] for a in first_round]
    assert [a["status"] for a in old] == ["CHANGES_REQUESTED", "CANCELLED", "CANCELLED"]
    # 90,000 with healthy margins and 3.5 % of PERCENT incentives needs the sales manager only.
    assert [(a["stage"], a["sequence"], a["status"]) for a in new] == [("SALES_MANAGER", 1, "PENDING")]
    assert [(h["fromStatus"], h["toStatus"]) for h in deal["statusHistory"]] == [
        (None, "DRAFT"), ("DRAFT", "PENDING_APPROVAL"), ("PENDING_APPROVAL", "CHANGES_REQUESTED"),
        ("CHANGES_REQUESTED", "PENDING_APPROVAL")]
    rounds = {row["after_json"]["round"] for op in operations(flow.engine) for row in op
              if row["table_name"] == "deal_approvals" and row["operation"] == "INSERT"}
    assert rounds == {1, 2}

    deal = await flow.decide(pending(deal)["id"], "APPROVE", who="manager")
    assert deal["status"] == "APPROVED"


async def test_withdraw_a_pending_deal_cancels_its_open_stages(gateway: Gateway) -> None:
    flow = await Workflow(gateway).meet()
    deal = await flow.submit(await flow.create())
    deal = await flow.decide(pending(deal)["id"], "APPROVE", who="manager")

    deal = await flow.ok(WITHDRAW, {"id": deal["id"], "v": deal["version"], "reason": " Client paused "},
                         who="seller")

    assert (deal["status"], deal["version"]) == ("WITHDRAWN", 3)
    assert [a["status"] for a in deal["approvals"]] == ["APPROVED", "CANCELLED", "CANCELLED"]
    assert deal["statusHistory"][-1]["reason"] == "Client paused"
    withdraw = operations(flow.engine)[-1]
    assert {row["reason"] for row in withdraw} == {"Client paused"}


async def test_withdraw_from_draft_and_from_approved(gateway: Gateway) -> None:
    flow = await Workflow(gateway).meet()
    draft = await flow.create()
    draft = await flow.ok(WITHDRAW, {"id": draft["id"], "v": 1, "reason": "Dup"}, who="desk")
    assert (draft["status"], draft["version"]) == ("WITHDRAWN", 2)

    deal = await flow.submit(await flow.create(totalValue="50000"))
    deal = await flow.decide(pending(deal)["id"], "APPROVE", who="manager")
    assert deal["status"] == "APPROVED"
    deal = await flow.ok(WITHDRAW, {"id": deal["id"], "v": deal["version"], "reason": "Lost budget"},
                         who="admin")
    assert deal["status"] == "WITHDRAWN"


async def test_close_lost(gateway: Gateway) -> None:
    flow = await Workflow(gateway).meet()
    deal = await flow.submit(await flow.create(totalValue="50000"))
    deal = await flow.decide(pending(deal)["id"], "APPROVE", who="manager")
    deal = await flow.ok(CLOSE, {"id": deal["id"], "v": deal["version"], "won": False}, who="desk")
    assert deal["status"] == "CLOSED_LOST" and deal["statusHistory"][-1]["reason"] is None


async def test_comments_are_actions_of_any_approval_and_change_no_version(gateway: Gateway) -> None:
    flow = await Workflow(gateway).meet()
    deal = await flow.submit(await flow.create())
    first, waiting = deal["approvals"][0], deal["approvals"][1]

    action = await flow.ok(COMMENT, {"id": first["id"], "comment": "  Need the IO  "}, who="seller")
    await flow.ok(COMMENT, {"id": waiting["id"], "comment": "FYI"}, who="legal")

    assert (action["action"], action["comment"], action["actor"]) == (
        "COMMENT", "Need the IO", {"email": "seller@x.test"})
    deal = await flow.read(deal["id"])
    assert deal["version"] == 2
    assert [a["actions"] for a in deal["approvals"][:2]] == [
        [{"action": "COMMENT", "comment": "Need the IO", "actor": {"email": "seller@x.test"}}],
        [{"action": "COMMENT", "comment": "FYI", "actor": {"email": "legal@x.test"}}]]
    assert [row["table_name"] for row in operations(flow.engine)[-1]] == ["approval_actions"]
