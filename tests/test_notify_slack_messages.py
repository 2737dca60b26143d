"""Approvers are messaged on Slack when a stage waits for them, owners when their deal is decided: through the
outbox, delivered by the dispatcher of the served gateway to a fake Slack Web API on loopback."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from gateway.core.settings import Settings
from tests.support.notify import PEOPLE, live, slack_id, slack_settings
from tests.support.slack import BOT_TOKEN, FakeSlack, fake_slack
from tests.support.stores import WITH_JOURNAL

STORE_KINDS = WITH_JOURNAL  # the outbox row is part of the change: one transaction, or the write journal


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    """The fake Slack, knowing every cast member."""
    with fake_slack(PEOPLE) as fake:
        yield fake


def buttons(call: Any) -> dict[str, Any]:
    """action_id -> button of a posted message."""
    [actions] = [block for block in call.params["blocks"] if block["type"] == "actions"]
    return {element["action_id"]: element for element in actions["elements"]}


async def test_an_approver_is_messaged_within_seconds_of_a_submit(
        settings: Settings, slack: FakeSlack) -> None:
    async with live(slack_settings(settings, slack)) as served:
        flow = served.workflow
        deal = await flow.create()
        submitted_at = time.monotonic()
        deal = await flow.submit(deal)
        pending = [a for a in deal["approvals"] if a["status"] == "PENDING"]
        [stage] = pending

        posts = slack.wait_for("chat.postMessage", 2, timeout_s=5)
        # The region's sales managers, not the owner, not another region's manager, not the later stages'.
        assert sorted(call.params["channel"] for call in posts) == sorted(
            [slack_id("manager"), slack_id("boss")])
        assert max(call.at for call in posts) - submitted_at < 3
        for call in posts:
            assert call.token == BOT_TOKEN
            assert {k: b["value"] for k, b in buttons(call).items() if "value" in b} == {
                "approve": stage["id"], "request_changes": stage["id"], "reject": stage["id"]}
            assert buttons(call)["open_deal"]["url"] == f"https://deals.example.test/deals/{deal['id']}"
            text = call.params["blocks"][0]["text"]["text"]
            for shown in (deal["dealNumber"], "Acme Q3 CTV", "Acme", "1200000.00 USD", "SALES_MANAGER"):
                assert shown in text
        assert sorted(call.params["email"] for call in slack.of("users.lookupByEmail")) == [
            "boss@x.test", "manager@x.test"]
        rows = served.rows()
        assert sorted(row.status for row in rows) == ["SENT", "SENT"]
        assert all(row.attempts == 1 and row.sent_at is not None for row in rows)


async def test_the_next_steps_approvers_are_messaged_when_it_starts(
        settings: Settings, slack: FakeSlack) -> None:
    async with live(slack_settings(settings, slack)) as served:
        flow = served.workflow
        deal = await flow.submit(await flow.create())
        [first] = [a for a in deal["approvals"] if a["status"] == "PENDING"]
        slack.wait_for("chat.postMessage", 2)
        deal = await flow.decide(first["id"], "APPROVE", who="manager")
        [second] = [a for a in deal["approvals"] if a["status"] == "PENDING"]
        assert second["stage"] == "DEAL_DESK"
        posts = slack.wait_for("chat.postMessage", 4)[2:]
        assert sorted(call.params["channel"] for call in posts) == sorted(
            [slack_id("desk"), slack_id("boss")])
        assert all(buttons(call)["approve"]["value"] == second["id"] for call in posts)


async def test_the_owner_is_told_of_the_outcome_with_the_comment(
        settings: Settings, slack: FakeSlack) -> None:
    async with live(slack_settings(settings, slack)) as served:
        flow = served.workflow
        deal = await flow.submit(await flow.create())
        [first] = [a for a in deal["approvals"] if a["status"] == "PENDING"]
        slack.wait_for("chat.postMessage", 2)
        await flow.decide(first["id"], "REJECT", who="manager", comment="Margin too thin <for> CTV & video")
        [told] = slack.wait_for("chat.postMessage", 3)[2:]
        assert told.params["channel"] == slack_id("seller")
        text = told.params["blocks"][0]["text"]["text"]
        assert "was rejected" in told.params["text"] and "by manager" in told.params["text"]
        assert "Margin too thin &lt;for&gt; CTV &amp; video" in text  # Slack's mrkdwn escaped
        assert "actions" not in [block["type"] for block in told.params["blocks"]]


async def test_a_failing_delivery_is_retried_with_backoff_then_marked_failed(
        settings: Settings, slack: FakeSlack) -> None:
    slack.errors["chat.postMessage"] = "internal_error"
    async with live(slack_settings(settings, slack, notify_max_attempts=3, notify_poll_s=0.05,
                                   notify_backoff_s=0.3)) as served:
        flow = served.workflow
        await flow.submit(await flow.create())
        calls = slack.wait_for("chat.postMessage", 6, timeout_s=15)
        deadline = time.monotonic() + 10
        while {row.status for row in served.rows()} != {"FAILED"}:
            assert time.monotonic() < deadline, served.rows()
            time.sleep(0.05)
        assert all(row.attempts == 3 and row.last_error == "internal_error" for row in served.rows())
        # Exponential: the second wait (about 0.6 s) is longer than the first (about 0.3 s).
        per_channel = [sorted(c.at for c in calls if c.params["channel"] == slack_id("manager"))][0]
        first_wait, second_wait = per_channel[1] - per_channel[0], per_channel[2] - per_channel[1]
        assert first_wait >= 0.25 and second_wait > first_wait * 1.4
        assert len(slack.of("chat.postMessage")) == 6  # nothing after FAILED
