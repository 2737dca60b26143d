"""Fixtures: a fresh store and a real gateway app per test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from gateway.app import create_app
from gateway.settings import Settings
from gateway.store.migrate import migrate
from tests.support.gateway import Gateway
from tests.support.stores import STORES, fresh_url


@pytest.fixture(params=STORES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new empty database of each configured kind."""
    yield from fresh_url(request.param, tmp_path)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Gateway settings on the fresh store, dev auth with a key in tmp_path."""
    return Settings(database_url=database_url, dev_key_file=str(tmp_path / "dev-key.json"),
                    _env_file=None)  # type: ignore[call-arg]


@pytest.fixture
async def gateway(settings: Settings) -> AsyncIterator[Gateway]:
    """The real app over ASGI, store migrated."""
    app = create_app(settings)
    migrate(app.state.db.engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
        yield Gateway(app, client, settings)
    app.state.db.dispose()
