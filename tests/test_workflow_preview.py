"""approvalChainPreview: the chain a submission would create now, under the deal's row rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from gateway.core.settings import Settings
from gateway.core.tables import deal_approvals
from tests.support.gateway import Gateway
from tests.support.stores import WITH_JOURNAL
from tests.support.workflow import (
    APPROVALS,
    PREVIEW,
    UPDATE,
    Workflow,
    hours_between,
    in_round,
    pending,
    ruled_gateway,
)
from tests.test_workflow_parallel_steps import PARALLEL

STORE_KINDS = WITH_JOURNAL  # also on journaled writes (tests/conftest.py)


async def preview_then_submit(flow: Workflow, deal: dict[str, Any]) -> tuple[list[Any], list[Any], Any]:
    """The preview of `deal`, then the chain its submission created, as (stage, step, due hours, carried
    over) each, and the preview itself. The stages PENDING from the start are due that many hours later."""
    preview = await flow.ok(PREVIEW, {"id": deal["id"]}, who="seller")
    await flow.submit(deal)
    read = await flow.ok(APPROVALS, {"id": deal["id"]}, who="admin")
    created = in_round(read, sum(1 for a in read["approvals"] if a["sequence"] == 1))
    a = deal_approvals.c
    with flow.engine.connect() as connection:
        stored = dict(connection.execute(select(a.id, a.due_hours).where(a.deal_id == deal["id"])).all())
    for approval in created:
        if approval["status"] == "PENDING":
            assert hours_between(read["submittedAt"], approval["dueAt"]) == float(stored[approval["id"]])
    previewed = [(p["stage"], p["step"], p["dueInHours"], p["carriedOver"]) for p in preview]
    made = [(a["stage"], a["step"], float(stored[a["id"]]), a["carriedOverFrom"] is not None)
            for a in created]
    return previewed, made, preview


async def test_the_preview_is_the_chain_submit_creates_on_the_default_rules(gateway: Gateway) -> None:
    flow = await Workflow(gateway).meet()
    deal = await flow.create(nonStandardTerms="Exclusive category")

    previewed, made, preview = await preview_then_submit(flow, deal)

    assert previewed == [("SALES_MANAGER", 1, 48.0, False), ("DEAL_DESK", 2, 48.0, False),
                         ("FINANCE", 3, 48.0, False), ("LEGAL", 4, 48.0, False)]
    assert previewed == made
    reasons = {p["stage"]: p["reasons"] for p in preview}
    assert reasons["SALES_MANAGER"] == ["SALES_MANAGER: required for every deal (always = true)"]
    assert reasons["DEAL_DESK"] == [
        "DEAL_DESK: totalValue is at least 100000 in the deal's currency (value_at_least = 100000)"]
    assert reasons["FINANCE"] == [
        "FINANCE: totalValue is at least 1000000 in the deal's currency (value_at_least = 1000000)"]
    assert reasons["LEGAL"] == ["LEGAL: nonStandardTerms is not empty (non_standard_terms = true)"]


async def test_the_preview_names_every_threshold_that_fired(gateway: Gateway) -> None:
    flow = await Workflow(gateway).meet()
    deal = await flow.create(totalValue="50000.00", targetMarginPct="25", tiers=[
        {"minSpend": "0", "cpm": "14.00", "marginPct": "18"}], incentives=[
        {"type": "AGENCY_REBATE", "unit": "PERCENT", "value": "12"}])
    preview = await flow.ok(PREVIEW, {"id": deal["id"]}, who="desk")
    assert [(p["stage"], p["reasons"]) for p in preview] == [
        ("SALES_MANAGER", ["SALES_MANAGER: required for every deal (always = true)"]),
        ("DEAL_DESK", ["DEAL_DESK: a tier's marginPct is below 30 (tier_margin_below = 30)",
                       "DEAL_DESK: targetMarginPct is below 30 (target_margin_below = 30)"]),
        ("FINANCE", ["FINANCE: a tier's marginPct is below 20 (tier_margin_below = 20)",
                     "FINANCE: the PERCENT incentives add up to more than 10 "
                     "(percent_incentives_above = 10)"]),
    ]


async def test_reasons_on_fields_the_caller_may_not_read_say_only_that_a_restricted_condition_holds(
    gateway: Gateway,
) -> None:
    flow = await Workflow(gateway).meet()
    deal = await flow.create(totalValue="50000.00", targetMarginPct="25", incentives=[
        {"type": "AGENCY_REBATE", "unit": "PERCENT", "value": "12"}])
    # The seller owns the deal (sees its incentives, not its margins); legal sees neither.
    seller = {p["stage"]: p["reasons"] for p in await flow.ok(PREVIEW, {"id": deal["id"]}, who="seller")}
    legal = {p["stage"]: p["reasons"] for p in await flow.ok(PREVIEW, {"id": deal["id"]}, who="legal")}
    assert seller["DEAL_DESK"] == ["DEAL_DESK: a condition on margins holds (restricted for your role)"]
    assert seller["FINANCE"] == [
        "FINANCE: the PERCENT incentives add up to more than 10 (percent_incentives_above = 10)"]
    assert legal["FINANCE"] == ["FINANCE: a condition on incentives holds (restricted for your role)"]


async def test_the_preview_is_the_chain_submit_creates_on_a_custom_file(settings: Settings,
                                                                        tmp_path: Path) -> None:
    async with ruled_gateway(settings, tmp_path / "parallel.toml", PARALLEL) as gateway:
        flow = await Workflow(gateway).meet()
        previewed, made, _ = await preview_then_submit(flow, await flow.create())

    assert previewed == [("SALES_MANAGER", 1, 24.0, False), ("DEAL_DESK", 2, 8.5, False),
                         ("FINANCE", 2, 72.0, False), ("LEGAL", 3, 48.0, False)]
    assert previewed == made


async def test_the_preview_of_a_resubmission_shows_what_carries_over(gateway: Gateway) -> None:
    flow = await Workflow(gateway).meet()
    deal = await flow.submit(await flow.create())
    deal = await flow.decide(pending(deal)["id"], "APPROVE", who="manager")
    deal = await flow.decide(pending(deal)["id"], "APPROVE", who="desk")
    deal = await flow.decide(pending(deal)["id"], "REQUEST_CHANGES", who="finance", comment="Dates?")
    edit = {"id": deal["id"], "v": deal["version"], "input": {"endDate": "2026-10-31"}}
    deal = await flow.ok(UPDATE, edit, who="seller")

    previewed, made, preview = await preview_then_submit(flow, deal)

    # endDate: SALES_MANAGER (always) watches it; DEAL_DESK does not.
    assert previewed == [("SALES_MANAGER", 1, 48.0, False), ("DEAL_DESK", 2, 48.0, True),
                         ("FINANCE", 3, 48.0, False)]
    assert previewed == made
    assert preview[0]["reasons"][-1] == (
        "SALES_MANAGER: approved in round 1, asked again: endDate changed since")
    assert preview[1]["reasons"][-1] == (
        "DEAL_DESK: carried over from round 1: none of totalValue, currency, tiers, targetMarginPct changed "
        "since its approval")
    assert len(preview[2]["reasons"]) == 1  # FINANCE asked for changes: nothing to carry over


@pytest.mark.parametrize(("who", "sees"), [("seller", True), ("manager", True), ("analyst", True),
                                           ("admin", True), ("other", False), ("emea_manager", False)])
async def test_the_preview_obeys_the_deals_row_rules(gateway: Gateway, who: str, sees: bool) -> None:
    flow = await Workflow(gateway).meet()
    deal = await flow.create()
    if sees:
        preview = await flow.ok(PREVIEW, {"id": deal["id"]}, who=who)
        assert [p["stage"] for p in preview] == ["SALES_MANAGER", "DEAL_DESK", "FINANCE"]
    else:
        assert await flow.fail(PREVIEW, {"id": deal["id"]}, who=who) == ("NOT_FOUND", "dealId")


async def test_an_unknown_or_malformed_deal_id_is_refused(gateway: Gateway) -> None:
    flow = await Workflow(gateway).meet()
    unknown = "01900000-0000-7000-8000-00000000dead"
    assert await flow.fail(PREVIEW, {"id": unknown}, who="admin") == ("NOT_FOUND", "dealId")
    assert await flow.fail(PREVIEW, {"id": "nope"}, who="admin") == ("BAD_USER_INPUT", "dealId")


async def test_the_preview_reads_the_deal_its_chain_tiers_and_incentives_in_four_statements(
    gateway: Gateway,
) -> None:
    flow = await Workflow(gateway).meet()
    deal = await flow.create()
    sent, data = await gateway.count_statements(PREVIEW, {"id": deal["id"]}, token=flow.tokens["seller"])
    assert len(data["approvalChainPreview"]) == 3
    assert sent == 4
