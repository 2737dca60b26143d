"""Parallel steps: a step's stages are PENDING together, each with its own due time, queue and metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from gateway.core.settings import Settings
from gateway.core.tables import deal_approvals
from tests.support.gateway import Gateway
from tests.support.stores import WITH_JOURNAL
from tests.support.workflow import (
    DECIDE,
    METRICS,
    QUEUE,
    Workflow,
    hours_between,
    ruled_gateway,
)

STORE_KINDS = WITH_JOURNAL  # also on journaled writes (tests/conftest.py)

PARALLEL = """
[[rules]]
stage = "SALES_MANAGER"
always = true
due_hours = 24
remind_before_hours = 4
escalate_to = "EXECUTIVE"

[[rules]]
stage = "DEAL_DESK"
always = true
step = 2
due_hours = 8.5

[[rules]]
stage = "FINANCE"
value_at_least = 1000000
step = 2
due_hours = 72

[[rules]]
stage = "LEGAL"
always = true
step = 3
"""


@pytest.fixture
async def flow(settings: Settings, tmp_path: Path) -> AsyncIterator[Workflow]:
    """The cast on a gateway whose chain is SALES_MANAGER, then DEAL_DESK with FINANCE, then LEGAL."""
    async with ruled_gateway(settings, tmp_path / "parallel.toml", PARALLEL) as gateway:
        yield await Workflow(gateway).meet()


def chain(deal: dict[str, Any]) -> list[tuple[str, int, str]]:
    """(stage, step, status) of each approval."""
    return [(a["stage"], a["step"], a["status"]) for a in deal["approvals"]]


def by_stage(deal: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The deal's approvals by stage (one round)."""
    return {a["stage"]: a for a in deal["approvals"]}


async def test_the_stages_of_a_step_are_pending_together_and_the_next_starts_when_all_are_approved(
    flow: Workflow,
) -> None:
    deal = await flow.submit(await flow.create())
    assert chain(deal) == [("SALES_MANAGER", 1, "PENDING"), ("DEAL_DESK", 2, "WAITING"),
                           ("FINANCE", 2, "WAITING"), ("LEGAL", 3, "WAITING")]

    deal = await flow.decide(by_stage(deal)["SALES_MANAGER"]["id"], "APPROVE", who="manager")
    assert chain(deal)[1:] == [("DEAL_DESK", 2, "PENDING"), ("FINANCE", 2, "PENDING"),
                               ("LEGAL", 3, "WAITING")]

    deal = await flow.decide(by_stage(deal)["DEAL_DESK"]["id"], "APPROVE", who="desk")
    assert deal["status"] == "PENDING_APPROVAL"
    assert chain(deal)[1:] == [("DEAL_DESK", 2, "APPROVED"), ("FINANCE", 2, "PENDING"),
                               ("LEGAL", 3, "WAITING")]

    deal = await flow.decide(by_stage(deal)["FINANCE"]["id"], "APPROVE", who="finance")
    assert chain(deal)[3] == ("LEGAL", 3, "PENDING")
    deal = await flow.decide(by_stage(deal)["LEGAL"]["id"], "APPROVE", who="legal")
    assert deal["status"] == "APPROVED" and {a["status"] for a in deal["approvals"]} == {"APPROVED"}


@pytest.mark.parametrize(("decision", "status"),
                         [("REJECT", "REJECTED"), ("REQUEST_CHANGES", "CHANGES_REQUESTED")])
async def test_a_reject_or_request_for_changes_cancels_the_sibling_stage_and_the_later_ones(
    flow: Workflow, decision: str, status: str,
) -> None:
    deal = await flow.submit(await flow.create())
    deal = await flow.decide(by_stage(deal)["SALES_MANAGER"]["id"], "APPROVE", who="manager")
    sibling = by_stage(deal)["DEAL_DESK"]["id"]

    deal = await flow.decide(by_stage(deal)["FINANCE"]["id"], decision, who="finance", comment="Too rich")

    assert deal["status"] == status
    assert chain(deal) == [("SALES_MANAGER", 1, "APPROVED"), ("DEAL_DESK", 2, "CANCELLED"),
                           ("FINANCE", 2, status), ("LEGAL", 3, "CANCELLED")]
    assert await flow.fail(DECIDE, {"id": sibling, "decision": "APPROVE"}, who="desk") == (
        "CONFLICT", "approvalId")
    assert (await flow.ok(QUEUE, {}, who="desk"))["totalCount"] == 0


async def test_each_stage_is_due_after_its_own_hours_from_the_start_of_its_step(flow: Workflow) -> None:
    deal = await flow.submit(await flow.create())
    manager = by_stage(deal)["SALES_MANAGER"]
    assert hours_between(deal["submittedAt"], manager["dueAt"]) == 24

    deal = await flow.decide(manager["id"], "APPROVE", who="manager")
    stages, started = by_stage(deal), by_stage(deal)["SALES_MANAGER"]["decidedAt"]
    assert hours_between(started, stages["DEAL_DESK"]["dueAt"]) == 8.5
    assert hours_between(started, stages["FINANCE"]["dueAt"]) == 72
    assert stages["LEGAL"]["dueAt"] is None  # WAITING: no due time before its step starts

    deal = await flow.decide(stages["FINANCE"]["id"], "APPROVE", who="finance")
    deal = await flow.decide(by_stage(deal)["DEAL_DESK"]["id"], "APPROVE", who="desk")
    legal = by_stage(deal)["LEGAL"]
    assert hours_between(by_stage(deal)["DEAL_DESK"]["decidedAt"], legal["dueAt"]) == 48  # the default


async def test_each_stage_keeps_its_service_level_for_reminders_and_escalation(flow: Workflow) -> None:
    deal = await flow.submit(await flow.create())
    a = deal_approvals.c
    with flow.engine.connect() as connection:
        stored = connection.execute(select(a.stage, a.step, a.due_hours, a.remind_before_hours, a.escalate_to)
                                    .where(a.deal_id == deal["id"]).order_by(a.sequence)).all()
    assert [tuple(row) for row in stored] == [
        ("SALES_MANAGER", 1, Decimal("24.000"), Decimal("4.000"), "EXECUTIVE"),
        ("DEAL_DESK", 2, Decimal("8.500"), Decimal("4.250"), "DEAL_DESK"),  # reminder: half of under 24 h
        ("FINANCE", 2, Decimal("72.000"), Decimal("12.000"), "DEAL_DESK"),
        ("LEGAL", 3, Decimal("48.000"), Decimal("12.000"), "DEAL_DESK"),
    ]


async def test_queue_and_metrics_count_each_parallel_stage_on_its_own(flow: Workflow) -> None:
    deal = await flow.submit(await flow.create())
    await flow.decide(by_stage(deal)["SALES_MANAGER"]["id"], "APPROVE", who="manager")

    for who, stage in (("desk", "DEAL_DESK"), ("finance", "FINANCE")):
        queue = await flow.ok(QUEUE, {}, who=who)
        assert [(e["node"]["stage"], e["node"]["step"]) for e in queue["edges"]] == [(stage, 2)]
    boss = await flow.ok(QUEUE, {}, who="boss")  # holds both roles: sees both stages of the step
    assert sorted(e["node"]["stage"] for e in boss["edges"]) == ["DEAL_DESK", "FINANCE"]

    metrics = {m["stage"]: m for m in await flow.ok(METRICS, {}, who="admin")}
    assert (metrics["DEAL_DESK"]["pendingCount"], metrics["FINANCE"]["pendingCount"]) == (1, 1)
    assert (metrics["SALES_MANAGER"]["pendingCount"], metrics["SALES_MANAGER"]["decidedCount"]) == (0, 1)
    assert metrics["LEGAL"]["pendingCount"] == 0


async def test_the_default_rules_keep_one_stage_per_step(gateway: Gateway) -> None:
    flow = await Workflow(gateway).meet()
    deal = await flow.submit(await flow.create())
    assert chain(deal) == [("SALES_MANAGER", 1, "PENDING"), ("DEAL_DESK", 2, "WAITING"),
                           ("FINANCE", 3, "WAITING")]
    assert hours_between(deal["submittedAt"], deal["approvals"][0]["dueAt"]) == 48
