"""Fixtures for the auth tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from gateway.app import create_app
from tests.support.gateway import Gateway
from tests.support.okta import OktaServer, okta_keys, okta_server, okta_settings

__all__ = ["okta_gateway", "okta_keys", "okta_server", "okta_settings"]


@pytest.fixture
async def okta_gateway(okta_server: OktaServer, database_url: str) -> AsyncIterator[Gateway]:
    """The real app with Okta auth against `okta_server`, over ASGI; its lifespan migrates and closes."""
    settings = okta_server.settings(database_url=database_url)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
            yield Gateway(app, client, settings)
