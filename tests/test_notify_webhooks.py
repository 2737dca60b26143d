"""Webhooks per the Standard Webhooks specification: one signed message per DealEvent, through the outbox."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterator

import pytest
from pydantic import SecretStr
from standardwebhooks import Webhook, WebhookVerificationError

from gateway.core.settings import Settings
from tests.support.notify import live
from tests.support.receiver import Receiver, receiving
from tests.support.stores import WITH_JOURNAL
from tests.support.workflow import COMMENT, pending

STORE_KINDS = WITH_JOURNAL
HOOK = SecretStr("http://127.0.0.1:9/hook")
SECRET = "whsec_" + base64.b64encode(b"a webhook secret of 32 bytes....").decode()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """The webhook receiver."""
    with receiving() as running:
        yield running


async def test_each_deal_event_is_one_webhook_that_verifies_with_standardwebhooks(
        settings: Settings, receiver: Receiver) -> None:
    changed = settings.model_copy(update={"webhook_url": SecretStr(receiver.url),
                                          "webhook_secret": SecretStr(SECRET),
                                          "notify_poll_s": 0.1})
    async with live(changed) as served:
        flow = served.workflow
        async with served.server.app.state.broker.subscribe() as events:
            deal = await flow.submit(await flow.create())
            await flow.ok(COMMENT, {"id": pending(deal)["id"], "comment": "looking"}, who="manager")
            await flow.decide(pending(deal)["id"], "REJECT", who="manager", comment="no")
            published = []
            while True:
                try:
                    published.append(await asyncio.wait_for(anext(events), 0.3))
                except TimeoutError:
                    break
        received = receiver.wait_for(4)
        await asyncio.sleep(0.5)
        assert len(receiver.received) == len(published) == 4  # one each, nothing twice

    verifier = Webhook(SECRET)
    messages = [verifier.verify(r.body, r.headers) for r in received]  # raises unless signed right
    assert sorted(m["data"]["kind"] for m in messages) == sorted(e.kind for e in published) == [
        "APPROVAL_DECIDED", "COMMENTED", "CREATED", "SUBMITTED"]
    assert all(m["type"] == f"deal.{m['data']['kind'].lower()}" and m["data"]["dealId"] == deal["id"]
               for m in messages)
    assert len({r.headers["webhook-id"] for r in received}) == 4
    assert all(r.headers["webhook-signature"].startswith("v1,") for r in received)
    tampered = json.dumps({**messages[0], "type": "deal.forged"}).encode()
    with pytest.raises(WebhookVerificationError):
        verifier.verify(tampered, received[0].headers)
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + base64.b64encode(b"another secret of the same size.").decode()).verify(
            received[0].body, received[0].headers)


async def test_a_refusing_receiver_is_retried(settings: Settings, receiver: Receiver) -> None:
    receiver.status = 503
    changed = settings.model_copy(update={"webhook_url": SecretStr(receiver.url),
                                          "webhook_secret": SecretStr(SECRET),
                                          "notify_poll_s": 0.05, "notify_backoff_s": 0.1})
    async with live(changed) as served:
        await served.workflow.create()
        receiver.wait_for(2)
        receiver.status = 204
        receiver.wait_for(3)
        await asyncio.sleep(0.3)
        [row] = served.rows()
        assert row.status == "SENT" and row.attempts >= 3 and row.last_error == "http_503"
        ids = {r.headers["webhook-id"] for r in receiver.received}
        assert ids == {row.id}  # the same message id on every attempt: a receiver can drop repeats


@pytest.mark.parametrize(("changes", "named"), [
    ({"webhook_url": HOOK}, "DEAL_DESK_WEBHOOK_URL and DEAL_DESK_WEBHOOK_SECRET"),
    ({"webhook_url": HOOK, "webhook_secret": SecretStr("whsec_!!not base64!!")},
     "DEAL_DESK_WEBHOOK_SECRET must be"),
    ({"slack_bot_token": SecretStr("xoxb-1")}, "DEAL_DESK_SLACK_SIGNING_SECRET"),
])
def test_notification_settings_that_cannot_work_stop_the_gateway_naming_them(
        settings: Settings, changes: dict[str, object], named: str) -> None:
    from gateway.app import create_app
    from gateway.core.settings import ConfigError

    with pytest.raises(ConfigError) as raised:
        create_app(settings.model_copy(update=changes))
    assert named in str(raised.value) and "!!not" not in str(raised.value) and "xoxb" not in str(raised.value)
