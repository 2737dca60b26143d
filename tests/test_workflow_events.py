"""Each workflow mutation publishes one Event after its commit; a failed one publishes nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from gateway.events.broker import Event
from tests.support.gateway import Gateway
from tests.support.stores import WITH_JOURNAL
from tests.support.workflow import (
    CLOSE,
    COMMENT,
    SET_INCENTIVES,
    SET_TIERS,
    UPDATE,
    WITHDRAW,
    Workflow,
    pending,
)

STORE_KINDS = WITH_JOURNAL  # also on journaled writes (tests/conftest.py)


async def drain(events: AsyncIterator[Event]) -> list[Event]:
    """Every event already published."""
    received = []
    while True:
        try:
            received.append(await asyncio.wait_for(anext(events), 0.2))
        except TimeoutError:
            return received


async def test_every_mutation_publishes_its_event(gateway: Gateway) -> None:
    flow = await Workflow(gateway).meet()
    async with gateway.app.state.broker.subscribe() as events:
        deal = await flow.create()
        deal = await flow.ok(UPDATE, {"id": deal["id"], "v": 1, "input": {"notes": "x"}}, who="seller")
        deal = await flow.ok(SET_TIERS, {"id": deal["id"], "v": 2, "tiers": []}, who="seller")
        deal = await flow.ok(SET_INCENTIVES, {"id": deal["id"], "v": 3, "incentives": []}, who="seller")
        deal = await flow.submit(deal)
        await flow.ok(COMMENT, {"id": pending(deal)["id"], "comment": "hi"}, who="manager")
        for who in ("manager", "desk", "finance"):
            deal = await flow.decide(pending(deal)["id"], "APPROVE", who=who)
        await flow.ok(CLOSE, {"id": deal["id"], "v": deal["version"], "won": True}, who="seller")
        other = await flow.create()
        await flow.ok(WITHDRAW, {"id": other["id"], "v": 1, "reason": "r"}, who="seller")
        received = await drain(events)

    assert [e.kind for e in received] == [
        "CREATED", "UPDATED", "UPDATED", "UPDATED", "SUBMITTED", "COMMENTED", "APPROVAL_DECIDED",
        "APPROVAL_DECIDED", "APPROVAL_DECIDED", "CLOSED", "CREATED", "WITHDRAWN"]
    assert {e.deal_id for e in received[:10]} == {deal["id"]}
    assert received[6].actor_user_id == flow.user_id("manager")


async def test_a_failed_mutation_publishes_nothing(gateway: Gateway) -> None:
    flow = await Workflow(gateway).meet()
    deal = await flow.create()
    async with gateway.app.state.broker.subscribe() as events:
        await flow.fail(UPDATE, {"id": deal["id"], "v": 7, "input": {"notes": "x"}}, who="seller")
        await flow.fail(WITHDRAW, {"id": deal["id"], "v": 1, "reason": "r"}, who="manager")
        assert await drain(events) == []
