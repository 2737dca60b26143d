"""Deciding from Slack: interactivity requests signed with the real secret as Slack signs them, sent to the
served gateway's POST /slack/interactions, its replies recorded by the fake Slack Web API."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select, update

from gateway.core.settings import Settings
from gateway.core.tables import approval_actions, audit_log, users
from tests.support.notify import PEOPLE, Live, live, slack_id, slack_settings
from tests.support.slack import (
    FakeSlack,
    block_action,
    fake_slack,
    form,
    post_interaction,
    signed,
    view_submission,
)
from tests.support.stores import WITH_JOURNAL
from tests.support.workflow import CAST

STORE_KINDS = WITH_JOURNAL
VIA = """query Via($id: ID!) { deal(id: $id) { status approvals { id status escalatedAt
         actions { action comment via actor { email } } } } }"""


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    """The fake Slack, knowing every cast member."""
    with fake_slack(PEOPLE) as fake:
        yield fake


async def submitted(served: Live, slack: FakeSlack, *, who: str = "seller") -> tuple[dict[str, Any], str]:
    """A deal submitted by `who`, its approvers messaged; (deal, the PENDING approval's id)."""
    flow = served.workflow
    deal = await flow.submit(await flow.create(who=who), who=who)
    slack.wait_for("chat.postMessage", 1)
    [pending] = [a for a in deal["approvals"] if a["status"] == "PENDING"]
    return deal, pending["id"]


async def click(served: Live, *, who: str, action_id: str, approval_id: str, **extra: Any) -> float:
    """A signed click on a button of `who`'s message; the seconds the gateway took to answer it (200)."""
    body = form(block_action(slack_user=slack_id(who), action_id=action_id, approval_id=approval_id, **extra))
    started = time.monotonic()
    response = await post_interaction(served.url, body, signed(body))
    assert response.status_code == 200, response.text
    return time.monotonic() - started


async def deal_state(served: Live, deal_id: str) -> dict[str, Any]:
    """The deal's status, approvals and actions, as an admin reads them."""
    return dict(await served.workflow.ok(VIA, {"id": deal_id}, who="admin"))


def counts(served: Live) -> tuple[int, int]:
    """(approval actions, audit rows) in the store."""
    with served.workflow.engine.connect() as connection:
        return (connection.execute(select(func.count()).select_from(approval_actions)).scalar_one(),
                connection.execute(select(func.count()).select_from(audit_log)).scalar_one())


async def test_a_signed_click_approves_via_slack_and_updates_the_message(
        settings: Settings, slack: FakeSlack) -> None:
    async with live(slack_settings(settings, slack)) as served:
        deal, approval_id = await submitted(served, slack)
        seconds = await click(served, who="manager", action_id="approve", approval_id=approval_id,
                              ts="1700000000.000100", channel="D-manager")
        assert seconds < 3  # Slack's ack window
        [updated] = slack.wait_for("chat.update")
        assert updated.params["channel"] == "D-manager" and updated.params["ts"] == "1700000000.000100"
        assert "Approved by Manager" in updated.params["text"] or "Approved by" in updated.params["text"]
        assert "actions" not in [block["type"] for block in updated.params["blocks"]]  # no buttons left
        state = await deal_state(served, deal["id"])
        [first] = [a for a in state["approvals"] if a["id"] == approval_id]
        assert first["status"] == "APPROVED"
        assert first["actions"] == [{"action": "APPROVE", "comment": None, "via": "SLACK",
                                     "actor": {"email": "manager@x.test"}}]
        assert [lookup.params["user"] for lookup in slack.of("users.info")] == [slack_id("manager")]


@pytest.mark.parametrize("forgery", ["wrong_secret", "stale", "missing", "tampered"])
async def test_a_forged_stale_or_missing_signature_gets_401_and_writes_nothing(
        settings: Settings, slack: FakeSlack, forgery: str) -> None:
    async with live(slack_settings(settings, slack)) as served:
        deal, approval_id = await submitted(served, slack)
        body = form(block_action(slack_user=slack_id("manager"), action_id="approve",
                                 approval_id=approval_id))
        headers = {
            "wrong_secret": signed(body, secret="not-the-signing-secret"),
            "stale": signed(body, at=int(time.time()) - 301),
            "missing": {"content-type": "application/x-www-form-urlencoded"},
            "tampered": signed(body.replace("approve", "reject")),
        }[forgery]
        sent = body if forgery != "tampered" else body.replace("approve", "approvf")
        before = counts(served)
        response = await post_interaction(served.url, sent, headers)
        assert response.status_code == 401
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        await asyncio.sleep(0.5)
        assert counts(served) == before
        assert slack.of("users.info") == [] and slack.of("chat.update") == []
        state = await deal_state(served, deal["id"])
        assert [a["status"] for a in state["approvals"] if a["id"] == approval_id] == ["PENDING"]


async def test_the_owners_click_writes_nothing(settings: Settings, slack: FakeSlack) -> None:
    async with live(slack_settings(settings, slack)) as served:
        # boss holds SALES_MANAGER in NA but owns the deal: segregation of duties
        deal, approval_id = await submitted(served, slack, who="boss")
        posted = len(slack.of("chat.postMessage"))
        before = counts(served)
        await click(served, who="boss", action_id="approve", approval_id=approval_id)
        [told] = slack.wait_for("chat.postMessage", posted + 1)[posted:]
        assert told.params["channel"] == slack_id("boss") and told.params["text"].startswith("Nothing done")
        assert counts(served) == before and slack.of("chat.update") == []
        state = await deal_state(served, deal["id"])
        assert [a["status"] for a in state["approvals"] if a["id"] == approval_id] == ["PENDING"]


async def test_a_repeated_click_decides_once(settings: Settings, slack: FakeSlack) -> None:
    async with live(slack_settings(settings, slack)) as served:
        deal, approval_id = await submitted(served, slack)
        await asyncio.gather(*(click(served, who="manager", action_id="approve", approval_id=approval_id)
                               for _ in range(3)))
        updates = slack.wait_for("chat.update", 3)
        notes = sorted(call.params["text"] for call in updates)
        assert sum(note.startswith("Approved by") for note in notes) == 1
        assert notes.count("Already approved by manager: nothing done from this click.") == 2  # wrote nothing
        state = await deal_state(served, deal["id"])
        [first] = [a for a in state["approvals"] if a["id"] == approval_id]
        assert [action["action"] for action in first["actions"]] == ["APPROVE"]


async def test_the_reject_modal_round_trip(settings: Settings, slack: FakeSlack) -> None:
    async with live(slack_settings(settings, slack)) as served:
        deal, approval_id = await submitted(served, slack)
        posted = len(slack.wait_for("chat.postMessage", 2))
        await click(served, who="manager", action_id="reject", approval_id=approval_id,
                    trigger_id="trigger-42", ts="1700000000.000200", channel="D-manager")
        [opened] = slack.wait_for("views.open")
        view = opened.params["view"]
        assert opened.params["trigger_id"] == "trigger-42" and view["callback_id"] == "decision_comment"
        assert counts(served)[0] == 0  # nothing decided before the comment is given

        body = form(view_submission(slack_user=slack_id("manager"), private_metadata=view["private_metadata"],
                                    comment="Margin below the floor"))
        response = await post_interaction(served.url, body, signed(body))
        assert response.status_code == 200 and response.content == b""  # closes the modal
        [updated] = slack.wait_for("chat.update")
        assert updated.params["ts"] == "1700000000.000200"
        assert updated.params["text"].startswith("Rejected by")
        state = await deal_state(served, deal["id"])
        assert state["status"] == "REJECTED"
        [first] = [a for a in state["approvals"] if a["id"] == approval_id]
        assert first["actions"] == [{"action": "REJECT", "comment": "Margin below the floor", "via": "SLACK",
                                     "actor": {"email": "manager@x.test"}}]
        [owner_told] = slack.wait_for("chat.postMessage", posted + 1)[posted:]
        assert owner_told.params["channel"] == slack_id("seller")
        assert "Margin below the floor" in owner_told.params["blocks"][0]["text"]["text"]


async def test_an_approver_not_seen_lately_is_asked_to_sign_in_and_nothing_is_written(
        settings: Settings, slack: FakeSlack) -> None:
    async with live(slack_settings(settings, slack)) as served:
        deal, approval_id = await submitted(served, slack)
        with served.workflow.engine.begin() as connection:  # last seen 13 h ago: beyond the 12 h window
            connection.execute(update(users).where(users.c.email == CAST["manager"][0]).values(
                last_seen_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=13)))
        posted = len(slack.of("chat.postMessage"))
        before = counts(served)
        await click(served, who="manager", action_id="approve", approval_id=approval_id)
        [told] = slack.wait_for("chat.postMessage", posted + 1)[posted:]
        assert "sign in to the Deal Desk" in told.params["text"]
        assert counts(served) == before
        state = await deal_state(served, deal["id"])
        assert [a["status"] for a in state["approvals"] if a["id"] == approval_id] == ["PENDING"]


async def test_a_click_on_a_stage_decided_elsewhere_says_so_and_writes_nothing(
        settings: Settings, slack: FakeSlack) -> None:
    async with live(slack_settings(settings, slack)) as served:
        _deal, approval_id = await submitted(served, slack)
        await served.workflow.decide(approval_id, "APPROVE", who="boss")  # in the Deal Desk, by the other one
        before = counts(served)
        await click(served, who="manager", action_id="reject", approval_id=approval_id,
                    ts="1700000000.000300")
        [opened] = slack.wait_for("views.open")
        metadata = opened.params["view"]["private_metadata"]
        body = form(view_submission(slack_user=slack_id("manager"), private_metadata=metadata,
                                    comment="late"))
        assert (await post_interaction(served.url, body, signed(body))).status_code == 200
        [updated] = slack.wait_for("chat.update")
        assert updated.params["ts"] == "1700000000.000300"
        assert updated.params["text"] == "Already approved by boss: nothing done from this click."
        assert counts(served) == before


async def test_a_slack_retry_of_an_acknowledged_request_is_acknowledged_and_ignored(
        settings: Settings, slack: FakeSlack) -> None:
    async with live(slack_settings(settings, slack)) as served:
        _deal, approval_id = await submitted(served, slack)
        body = form(block_action(slack_user=slack_id("manager"), action_id="approve",
                                 approval_id=approval_id))
        retry = {**signed(body), "x-slack-retry-num": "1", "x-slack-retry-reason": "http_timeout"}
        assert (await post_interaction(served.url, body, retry)).status_code == 200
        await asyncio.sleep(0.5)
        assert slack.of("users.info") == [] and counts(served)[0] == 0
