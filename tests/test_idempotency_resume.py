"""Idempotency-Key across a crash on a store without transactions (Databricks; here SQLite in journal mode):
the claim is in the write journal, so the retry of a request cut short at any statement completes it
exactly once: a write that committed is replayed (its response rebuilt from the committed state), one
that did not runs as new, and no key is left stuck."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from gateway.core.settings import Settings
from gateway.core.tables import deals, idempotency_keys, write_operations
from gateway.ops.repair import repair
from gateway.ops.verify import verify
from gateway.store import idempotency as store
from tests.support.gateway import Gateway
from tests.support.stores import JOURNAL
from tests.support.workflow import Workflow
from tests.test_journal import MAX_STATEMENTS, SCENARIOS, Crash, Setup

STORE_KINDS = [JOURNAL]
STALE_S = 0.05


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """A claim is abandoned after STALE_S, so a test's retry resumes it at once."""
    return settings.model_copy(update={"idempotency_stale_s": STALE_S})


def committed_writes(engine: Engine, token: str) -> list[str]:
    """The steps of the claim's operations that COMMITTED."""
    w, done = write_operations, write_operations.alias("done")
    stmt = (select(w.c.claim_step).join(done, done.c.operation_id == w.c.operation_id)
            .where(w.c.claim == token, w.c.state == "PENDING", done.c.state == "COMMITTED"))
    with engine.connect() as connection:
        return list(connection.execute(stmt).scalars())


def claim_of(engine: Engine, key: str) -> Any:
    """The key's record."""
    with engine.connect() as connection:
        return connection.execute(select(idempotency_keys).where(idempotency_keys.c.key == key)).one()


async def crash_then_retry(gateway: Gateway, flow: Workflow, crash: Crash, setup: Setup, at: int,
                           monkeypatch: pytest.MonkeyPatch) -> bool:
    """Cut the keyed mutation short at flush statement `at` (the process dies: nothing releases its
    claim), then retry it with its key; False when the flush had fewer statements."""
    document, variables, who = await setup(flow)
    key = {"idempotency-key": f"{setup.__name__}-{at}"}
    crash.arm(at)
    with monkeypatch.context() as dying:
        dying.setattr(store, "release", lambda *_args, **_kwargs: None)
        first = await gateway.post(document, variables, token=flow.tokens[who], headers=key)
    if not crash.hit:
        assert "errors" not in first.json(), first.json()
        return False
    token = claim_of(flow.engine, key["idempotency-key"]).response_body
    await asyncio.sleep(STALE_S * 2)
    retried = await gateway.post(document, variables, token=flow.tokens[who], headers=key)
    assert retried.status_code == 200 and "errors" not in retried.json(), (at, retried.json())
    assert len(committed_writes(flow.engine, token)) == 1, at  # the write happened exactly once
    again = await gateway.post(document, variables, token=flow.tokens[who], headers=key)
    assert again.headers["idempotent-replayed"] == "true" and again.content == retried.content
    return True


@pytest.mark.parametrize("setup", SCENARIOS, ids=lambda setup: setup.__name__)
async def test_a_keyed_write_cut_short_anywhere_completes_once_when_retried(
        gateway: Gateway, setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    flow = await Workflow(gateway).meet()
    crash = Crash(flow.engine)
    crashes = 0
    while await crash_then_retry(gateway, flow, crash, setup, crashes, monkeypatch):
        crashes += 1
        assert crashes < MAX_STATEMENTS
    assert crashes >= 4
    report = verify(flow.engine)
    assert report.ok and not report.unfinished, (dict(report.problems), report.unfinished)


async def test_a_committed_write_is_replayed_with_the_response_rebuilt_from_the_store(
        gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    flow = await Workflow(gateway).meet()
    key = {"idempotency-key": "after-commit"}
    document = "mutation C($input: CreateDealInput!) { createDeal(input: $input) { id name version } }"
    variables = {"input": flow.deal_input(name="Kept once")}
    with monkeypatch.context() as dying:  # committed, then the process died before storing the answer
        dying.setattr(store, "complete", lambda *_args, **_kwargs: None)
        dying.setattr(store, "release", lambda *_args, **_kwargs: None)
        first = await gateway.post(document, variables, token=flow.tokens["seller"], headers=key)
    await asyncio.sleep(STALE_S * 2)
    retried = await gateway.post(document, variables, token=flow.tokens["seller"], headers=key)

    assert retried.json() == first.json() and "errors" not in retried.json()
    with flow.engine.connect() as connection:
        stored = connection.execute(select(func.count()).where(deals.c.name == "Kept once")).scalar_one()
    assert stored == 1
    assert claim_of(flow.engine, "after-commit").status == store.DONE


@pytest.mark.parametrize("at", [0, 1], ids=["before-the-journal", "before-the-anchor"])
async def test_repair_frees_a_claim_whose_request_wrote_nothing(
        gateway: Gateway, monkeypatch: pytest.MonkeyPatch, at: int) -> None:
    flow = await Workflow(gateway).meet()
    crash = Crash(flow.engine)
    key = {"idempotency-key": f"nothing-{at}"}
    document, variables, who = await SCENARIOS[0](flow)
    crash.arm(at)
    with monkeypatch.context() as dying:
        dying.setattr(store, "release", lambda *_args, **_kwargs: None)
        await gateway.post(document, variables, token=flow.tokens[who], headers=key)
    assert crash.hit

    outcome = repair(flow.engine, older_than=dt.timedelta(0))
    assert outcome.freed_claims == 1 and "Freed 1 idempotency claim" in outcome.summary()
    with flow.engine.connect() as connection:
        assert connection.execute(select(idempotency_keys).where(
            idempotency_keys.c.key == key["idempotency-key"])).first() is None


async def test_repair_keeps_a_claim_with_a_committed_write_for_its_retry_to_replay(
        gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    flow = await Workflow(gateway).meet()
    key = {"idempotency-key": "committed"}
    document, variables, who = await SCENARIOS[0](flow)
    with monkeypatch.context() as dying:
        dying.setattr(store, "complete", lambda *_args, **_kwargs: None)
        dying.setattr(store, "release", lambda *_args, **_kwargs: None)
        first = await gateway.post(document, variables, token=flow.tokens[who], headers=key)

    assert repair(flow.engine, older_than=dt.timedelta(0)).freed_claims == 0
    await asyncio.sleep(STALE_S * 2)
    retried = await gateway.post(document, variables, token=flow.tokens[who], headers=key)
    assert retried.json() == first.json()
