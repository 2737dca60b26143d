"""The notification machinery of one `serve` process: Slack client, outbox dispatcher, scheduler."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import Row
from standardwebhooks import Webhook

from gateway.core.settings import ConfigError, Settings
from gateway.events.broker import Broker
from gateway.notify import slack as slack_api
from gateway.notify import webhooks
from gateway.notify.dispatcher import Deliver, DeliveryError, Dispatcher
from gateway.notify.interactions import Interactions
from gateway.notify.scheduler import Scheduler
from gateway.store.database import Database
from gateway.workflow import notices


def slack_deliverer(slack: slack_api.Slack) -> Deliver:
    """The Slack channel's Deliver: a direct message to the row's recipient, by their e-mail."""

    async def deliver(row: Row[Any], payload: dict[str, Any]) -> None:
        link = slack.deal_link(str(payload["deal_id"]))
        if row.kind == "DEAL_DECIDED":
            text, blocks = slack_api.outcome_message(payload, link)
        else:
            text, blocks = slack_api.approval_message(payload, row.kind, link)
        try:
            await slack.post(str(payload["email"]), text=text, blocks=blocks)
        except slack_api.SlackFailure as failure:
            raise DeliveryError(failure.code, permanent=failure.permanent) from None

    return deliver


def check(settings: Settings) -> None:
    """ConfigError naming the setting when the notification settings cannot work (no secret in it)."""
    if bool(settings.slack_bot_token) != bool(settings.slack_signing_secret):
        raise ConfigError("DEAL_DESK_SLACK_BOT_TOKEN and DEAL_DESK_SLACK_SIGNING_SECRET go together: "
                          "the messages' buttons need the signing secret")
    if bool(settings.webhook_url) != bool(settings.webhook_secret):
        raise ConfigError("DEAL_DESK_WEBHOOK_URL and DEAL_DESK_WEBHOOK_SECRET go together")
    if settings.webhook_secret is not None:
        try:
            Webhook(settings.webhook_secret.get_secret_value())
        except Exception:
            raise ConfigError("DEAL_DESK_WEBHOOK_SECRET must be whsec_ followed by base64") from None


class Notifications:
    """What `serve` starts and stops in its lifespan."""

    def __init__(self, db: Database, settings: Settings, broker: Broker) -> None:
        check(settings)
        self.db, self.settings, self.broker = db, settings, broker
        notices.configure(channels=settings.notify_channels, roles_max_age_h=settings.notify_roles_max_age_h)
        self.slack = slack_api.Slack(settings) if settings.slack_enabled else None
        self.http = httpx.AsyncClient()
        channels: dict[str, Deliver] = {}
        if self.slack is not None:
            channels[notices.SLACK] = slack_deliverer(self.slack)
        if notices.WEBHOOK in settings.notify_channels:
            channels[notices.WEBHOOK] = webhooks.deliverer(settings, self.http)
        self.dispatcher = Dispatcher(db, settings, channels, broker)
        self.interactions = Interactions(db, settings, self.slack, broker)  # POST /slack/interactions
        self.scheduler = Scheduler(db, settings, broker)

    async def start(self) -> None:
        """Start the background tasks: the scheduler always (escalation is recorded even with no channel),
        the dispatcher when a channel is configured."""
        self.scheduler.start()
        if self.settings.notify_channels:
            self.dispatcher.start()

    async def stop(self) -> None:
        """Stop the background tasks and close the clients."""
        await self.scheduler.stop()
        await self.interactions.aclose()
        await self.dispatcher.stop()
        if self.slack is not None:
            await self.slack.aclose()
        await self.http.aclose()
