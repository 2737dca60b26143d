"""The outbox: rows written with their change, each delivered by exactly one dispatcher, listed, counted,
and not lost to a SIGKILL between the commit and the delivery."""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Row, select
from typer.testing import CliRunner

from auth.dev import issue_token
from gateway.core.roles import Role
from gateway.core.settings import Settings
from gateway.core.tables import audit_log, notifications
from gateway.notify.dispatcher import Dispatcher
from gateway.ops.cli import cli
from gateway.store import outbox
from gateway.store.audit import Actor
from gateway.store.database import Database
from gateway.store.migrate import migrate
from gateway.store.writer import Writer
from tests.support.data import Data
from tests.support.notify import PEOPLE, live, slack_id, slack_settings
from tests.support.slack import BOT_TOKEN, SIGNING_SECRET, FakeSlack, fake_slack
from tests.support.workflow import CREATE, SUBMIT
from tests.test_crash import Process, free_port

FAILED_METRIC = re.compile(
    r'^deal_desk_notifications_total\{channel="slack",outcome="failed"\} ([0-9.]+)$', re.M)


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    """The fake Slack, knowing every cast member."""
    with fake_slack(PEOPLE) as fake:
        yield fake


async def test_a_refused_mutation_writes_no_notification(settings: Settings, slack: FakeSlack) -> None:
    async with live(slack_settings(settings, slack)) as served:
        flow = served.workflow
        deal = await flow.create()
        code, _ = await flow.fail(SUBMIT, {"id": deal["id"], "v": deal["version"] + 5}, who="seller")
        assert code == "CONFLICT"
        await flow.submit(deal)
        slack.wait_for("chat.postMessage", 2)
        assert len(served.rows()) == 2  # the submit that committed, nothing of the refused one
        with flow.engine.connect() as connection:  # audited like every row, in the same operation
            audited = connection.execute(select(audit_log.c.operation_id).where(
                audit_log.c.table_name == "notifications")).scalars().all()
            assert len(audited) == 2 and len(set(audited)) == 1


async def test_failed_rows_are_listed_and_counted_by_channel_and_outcome(
        settings: Settings, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch) -> None:
    slack.errors["chat.postMessage"] = "user_disabled"  # permanent: no retry
    async with live(slack_settings(settings, slack)) as served:
        flow = served.workflow
        before = _failed_count((await flow.gateway.client.get("/metrics")).text)
        deal = await flow.submit(await flow.create())
        deadline = time.monotonic() + 10
        while [row.status for row in served.rows()] != ["FAILED", "FAILED"]:
            assert time.monotonic() < deadline, served.rows()
            await asyncio.sleep(0.05)
        assert [row.attempts for row in served.rows()] == [1, 1]
        after = _failed_count((await flow.gateway.client.get("/metrics")).text)
        assert after - before == 2
        slack.errors.clear()
        [first] = [a for a in deal["approvals"] if a["status"] == "PENDING"]
        await flow.decide(first["id"], "APPROVE", who="manager")
        slack.wait_for("chat.postMessage", 4)  # the next stage's are delivered

    monkeypatch.setenv("DEAL_DESK_DATABASE_URL", settings.database_url)
    failed = CliRunner().invoke(cli, ["notify", "list", "--failed"])
    assert failed.exit_code == 0, failed.output
    assert "2 notification(s)" in failed.output and failed.output.count("user_disabled") == 2
    every = CliRunner().invoke(cli, ["notify", "list"])
    assert "4 notification(s)" in every.output and every.output.count("SENT") == 2


def _failed_count(text: str) -> float:
    found = FAILED_METRIC.search(text)
    return float(found.group(1)) if found else 0.0


async def test_two_dispatchers_deliver_each_row_exactly_once(settings: Settings) -> None:
    db = Database(settings.database_url, settings)
    migrate(db.engine)
    actor = Actor(user_id="00000000-0000-7000-8000-000000000000", sub="system|test")
    with db.engine.begin() as connection:
        writer = Writer(connection, actor)
        for number in range(60):
            outbox.enqueue(writer, channel="test", kind="PING", recipient=None, payload={"n": number})
    delivered: list[tuple[str, int]] = []

    def deliverer(name: str) -> Any:
        async def deliver(row: Row[Any], payload: dict[str, Any]) -> None:
            await asyncio.sleep(0.005)  # the other dispatcher claims meanwhile
            delivered.append((name, payload["n"]))
        return deliver

    fast = settings.model_copy(update={"notify_poll_s": 0.01})
    one, two = (Dispatcher(db, fast, {"test": deliverer(name)}) for name in ("one", "two"))
    one.start(), two.start()
    deadline = time.monotonic() + 20
    while len(delivered) < 60:
        assert time.monotonic() < deadline, len(delivered)
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)  # anything delivered twice would show by now
    await one.stop(), await two.stop()
    assert sorted(n for _, n in delivered) == list(range(60))
    with db.engine.connect() as connection:
        rows = list(connection.execute(select(notifications)))
    assert {row.status for row in rows} == {"SENT"} and {row.attempts for row in rows} == {1}
    db.dispose()


def test_a_sigkill_between_commit_and_delivery_loses_nothing(database_url: str, tmp_path: Path) -> None:
    with fake_slack(PEOPLE) as slack:
        slack.held.add("users.lookupByEmail")  # the delivery starts, and hangs there
        env = {key: value for key, value in os.environ.items() if not key.startswith("DEAL_DESK_")}
        env |= {"DEAL_DESK_DATABASE_URL": database_url, "DEAL_DESK_DEV_KEY_FILE": str(tmp_path / "key.json"),
                "DEAL_DESK_SLACK_BOT_TOKEN": BOT_TOKEN, "DEAL_DESK_SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "DEAL_DESK_SLACK_API_URL": slack.url, "DEAL_DESK_NOTIFY_POLL_S": "0.2",
                "DEAL_DESK_NOTIFY_LEASE_S": "2", "DEAL_DESK_LOG_LEVEL": "WARNING"}
        server = Process(env, free_port(), tmp_path / "serve.log")
        server.start()
        try:
            keys = Settings(database_url=database_url, dev_key_file=str(tmp_path / "key.json"),
                            _env_file=None)  # type: ignore[call-arg]
            seller = issue_token(keys, email="seller@x.test", roles=[Role.SELLER], region="NA")
            manager = issue_token(keys, email="manager@x.test", roles=[Role.SALES_MANAGER], region="NA")
            for token in (seller, manager):
                server.data(token, "{ me { id } }")
            db = Database(database_url)
            advertiser = Data(db.engine).advertiser("Acme")
            deal = server.data(seller, CREATE, {"input": _deal_input(advertiser)})["createDeal"]
            server.data(seller, SUBMIT, {"id": deal["id"], "v": deal["version"]})
            slack.wait_for("users.lookupByEmail")
            server.kill()  # committed, leased, not delivered
            with db.engine.connect() as connection:
                [row] = connection.execute(select(notifications)).all()
            assert row.status == "PENDING" and slack.of("chat.postMessage") == []

            slack.held.clear()
            server.start()
            [posted] = slack.wait_for("chat.postMessage", timeout_s=15)
            assert posted.params["channel"] == slack_id("manager")
            deadline = time.monotonic() + 5
            while _status(db, row.id) != "SENT":
                assert time.monotonic() < deadline
                time.sleep(0.05)
            time.sleep(0.5)
            assert len(slack.of("chat.postMessage")) == 1
            db.dispose()
        finally:
            server.kill()


def _status(db: Database, row_id: str) -> str:
    with db.engine.connect() as connection:
        return str(connection.execute(select(notifications.c.status).where(
            notifications.c.id == row_id)).scalar_one())


def _deal_input(advertiser: str) -> dict[str, Any]:
    return {"name": "Acme Q3 CTV", "advertiserId": advertiser, "dealType": "PROGRAMMATIC_GUARANTEED",
            "channels": ["CTV"], "currency": "USD", "totalValue": "50000.00", "startDate": "2026-07-01",
            "endDate": "2026-09-30", "targetMarginPct": "35",
            "tiers": [{"minSpend": "0", "cpm": "14.00", "marginPct": "38"}]}

