"""The real gateway served over HTTP (lifespan on: the dispatcher runs) against a fake Slack."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import SecretStr
from sqlalchemy import select

from gateway.app import create_app
from gateway.core.settings import Settings
from gateway.core.tables import approval_actions, notifications
from tests.support.gateway import Gateway
from tests.support.server import Server, serving
from tests.support.slack import BOT_TOKEN, SIGNING_SECRET, FakeSlack
from tests.support.workflow import CAST, Workflow

PEOPLE = {email: f"U{index:04d}" for index, (email, _roles, _region) in enumerate(CAST.values())}
"""The cast's Slack user ids, by e-mail."""


def slack_id(name: str) -> str:
    """The Slack user id of a cast member."""
    return PEOPLE[CAST[name][0]]


def slack_settings(settings: Settings, slack: FakeSlack, **changes: Any) -> Settings:
    """The test's settings with Slack on, pointed at the fake."""
    return settings.model_copy(update={
        "slack_bot_token": SecretStr(BOT_TOKEN), "slack_signing_secret": SecretStr(SIGNING_SECRET),
        "slack_api_url": slack.url, "public_url": "https://deals.example.test", "notify_poll_s": 0.2,
        "notify_backoff_s": 0.2, **changes})


@dataclass
class Live:
    """A served gateway, its workflow driver and its base URL."""

    server: Server
    workflow: Workflow
    url: str

    def rows(self, table: Any = notifications) -> list[Any]:
        """Every row of `table` (the outbox by default)."""
        with self.workflow.engine.connect() as connection:
            return list(connection.execute(select(table)))

    def actions(self) -> list[Any]:
        """Every approval action."""
        return self.rows(approval_actions)


@contextlib.asynccontextmanager
async def live(settings: Settings) -> AsyncIterator[Live]:
    """The app served by uvicorn (lifespan on), the cast met."""
    app = create_app(settings)
    with serving(app) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            workflow = await Workflow(Gateway(app, client, settings)).meet()
            yield Live(server, workflow, server.url)
