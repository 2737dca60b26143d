"""Reminders and escalation from the rules file's service levels (decimal hours: seconds here), once per
stage, even with two workers ticking side by side."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from auth.dev import issue_token
from gateway.core.roles import Role
from gateway.core.settings import Settings
from gateway.core.tables import approval_actions, deal_approvals
from gateway.store.database import Database
from tests.support.data import Data
from tests.support.notify import PEOPLE, live, slack_id, slack_settings
from tests.support.slack import BOT_TOKEN, SIGNING_SECRET, FakeSlack, fake_slack
from tests.support.stores import WITH_JOURNAL, write_mode
from tests.support.workers import workers_serving
from tests.support.workflow import CREATE, SUBMIT
from tests.test_crash import free_port

STORE_KINDS = WITH_JOURNAL
# The SALES_MANAGER stage is due 7.2 s after it starts, its approvers reminded 3.6 s before; the desk is told
# then. (Service levels are kept to 3 decimals of an hour: 3.6 s.)
RULES = """
[[rules]]
stage = "SALES_MANAGER"
always = true
due_hours = 0.002
remind_before_hours = 0.001
escalate_to = "DEAL_DESK"
"""
READ = """query Read($id: ID!) { deal(id: $id) { approvals { id status dueAt escalatedAt
          actions { action via comment actor { email } } } } }"""


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    """The fake Slack, knowing every cast member."""
    with fake_slack(PEOPLE) as fake:
        yield fake


@pytest.fixture
def rules(tmp_path: Path) -> str:
    """A rules file of one stage with a service level of seconds."""
    path = tmp_path / "rules.toml"
    path.write_text(RULES)
    return str(path)


def kinds(slack: FakeSlack) -> list[tuple[str, str]]:
    """(channel, title) of every message posted, in order."""
    return [(call.params["channel"], call.params["text"].split(":")[0])
            for call in slack.of("chat.postMessage")]


async def test_a_stage_is_reminded_then_escalated_once(settings: Settings, slack: FakeSlack,
                                                       rules: str) -> None:
    changed = slack_settings(settings, slack, approval_rules_file=rules, scheduler_interval_s=0.2)
    async with live(changed) as served:
        flow = served.workflow
        async with served.server.app.state.broker.subscribe() as events:
            deal = await flow.submit(await flow.create())
            [stage] = deal["approvals"]
            slack.wait_for("chat.postMessage", 6, timeout_s=12)  # 2 asked, 2 reminded, 2 of the desk told
            await asyncio.sleep(1.0)  # further ticks change nothing
            received = []
            while True:
                try:
                    received.append(await asyncio.wait_for(anext(events), 0.2))
                except TimeoutError:
                    break
        assert sorted(kinds(slack)) == sorted([
            (slack_id("manager"), "An approval waits for you"),
            (slack_id("boss"), "An approval waits for you"),
            (slack_id("manager"), "Reminder"), (slack_id("boss"), "Reminder"),
            (slack_id("desk"), "Escalated"), (slack_id("boss"), "Escalated")])
        assert [e.kind for e in received if e.kind == "ESCALATED"] == ["ESCALATED"]
        read = await flow.ok(READ, {"id": deal["id"]}, who="admin")
        [escalated] = read["approvals"]
        assert escalated["status"] == "PENDING" and escalated["escalatedAt"] is not None
        assert escalated["escalatedAt"] >= stage["dueAt"]
        [action] = escalated["actions"]
        assert action["action"] == "ESCALATED" and action["via"] == "SYSTEM"
        assert action["actor"]["email"] == "system@deal-desk.invalid"
        # Still decidable: an escalation tells more people, it decides nothing.
        decided = await flow.decide(stage["id"], "APPROVE", who="manager")
        assert decided["status"] == "APPROVED"


def test_escalation_happens_exactly_once_with_two_workers(database_url: str, store_kind: str, tmp_path: Path,
                                                          rules: str) -> None:
    with fake_slack(PEOPLE) as slack:
        env = {"DEAL_DESK_WRITE_MODE": write_mode(store_kind), "DEAL_DESK_APPROVAL_RULES_FILE": rules,
               "DEAL_DESK_SCHEDULER_INTERVAL_S": "0.05",
               "DEAL_DESK_SLACK_BOT_TOKEN": BOT_TOKEN, "DEAL_DESK_SLACK_SIGNING_SECRET": SIGNING_SECRET,
               "DEAL_DESK_SLACK_API_URL": slack.url, "DEAL_DESK_NOTIFY_POLL_S": "0.05"}
        with workers_serving(database_url, tmp_path, free_port(), **env) as (url, _metrics, _token, pids):
            assert len(pids) == 2
            keys = Settings(database_url=database_url, dev_key_file=str(tmp_path / "dev-key.json"),
                            _env_file=None)  # type: ignore[call-arg]
            tokens = {name: issue_token(keys, email=email, roles=roles, region=region)
                      for name, email, roles, region in (
                          ("seller", "seller@x.test", [Role.SELLER], "NA"),
                          ("manager", "manager@x.test", [Role.SALES_MANAGER], "NA"),
                          ("desk", "desk@x.test", [Role.DEAL_DESK], "NA"))}
            with httpx.Client(base_url=url, timeout=30) as client:
                for token in tokens.values():
                    _data(client, token, "{ me { id } }")
                db = Database(database_url)
                advertiser = Data(db.engine).advertiser("Acme")
                deals = []
                for number in range(3):  # three stages escalating, each once
                    deal = _data(client, tokens["seller"], CREATE, {"input": _deal_input(advertiser, number)})
                    deals.append(_data(client, tokens["seller"], SUBMIT,
                                       {"id": deal["createDeal"]["id"], "v": 1})["submitDeal"])
                deadline = time.monotonic() + 20
                while len(_escalations(db)) < 3:
                    assert time.monotonic() < deadline, _escalations(db)
                    time.sleep(0.1)
                time.sleep(1.5)  # 30 more ticks of each worker
                escalations = _escalations(db)
                assert len(escalations) == 3 and len({row.approval_id for row in escalations}) == 3
                with db.engine.connect() as connection:
                    stamped = connection.execute(select(deal_approvals.c.escalated_at)).scalars().all()
                assert all(value is not None for value in stamped)
                db.dispose()
            escalated_to_desk = [c for c in slack.of("chat.postMessage")
                                 if c.params["channel"] == slack_id("desk")]
            assert len(escalated_to_desk) == 3  # one message per escalated stage


def _escalations(db: Database) -> list[Any]:
    with db.engine.connect() as connection:
        escalated = select(approval_actions).where(approval_actions.c.action == "ESCALATED")
        return list(connection.execute(escalated))


def _data(client: httpx.Client, token: str, query: str, variables: dict[str, Any] | None = None) -> Any:
    body = client.post("/graphql", json={"query": query, "variables": variables or {}},
                       headers={"authorization": f"Bearer {token}"}).json()
    assert "errors" not in body, body
    return body["data"]


def _deal_input(advertiser: str, number: int) -> dict[str, Any]:
    return {"name": f"Acme {number}", "advertiserId": advertiser, "dealType": "PROGRAMMATIC_GUARANTEED",
            "channels": ["CTV"], "currency": "USD", "totalValue": "50000.00", "startDate": "2026-07-01",
            "endDate": "2026-09-30", "targetMarginPct": "35",
            "tiers": [{"minSpend": "0", "cpm": "14.00", "marginPct": "38"}]}

