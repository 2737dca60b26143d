"""Fixtures: a fresh store and a real gateway app per test."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import redis

from gateway.app import create_app
from gateway.core.logging import configure_logging
from gateway.core.settings import Settings
from gateway.store.migrate import migrate
from tests.support.gateway import Gateway
from tests.support.stores import STORES, fresh_url, write_mode


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """`store_kind`: each configured store, or the module's own list (`STORE_KINDS = WITH_JOURNAL`)."""
    if "store_kind" in metafunc.fixturenames:
        metafunc.parametrize("store_kind", getattr(metafunc.module, "STORE_KINDS", STORES))


@pytest.fixture(autouse=True, scope="session")
def _json_logging() -> None:
    """Logging as every gateway process configures it (structlog through stdlib, one JSON handler)."""
    configure_logging("INFO")


@pytest.fixture
def database_url(store_kind: str, tmp_path: Path) -> Iterator[str]:
    """A new empty database of the kind."""
    yield from fresh_url(store_kind, tmp_path)


@pytest.fixture
def settings(database_url: str, store_kind: str, tmp_path: Path) -> Settings:
    """Gateway settings on the fresh store, dev auth with a key in tmp_path."""
    return Settings(database_url=database_url, dev_key_file=str(tmp_path / "dev-key.json"),
                    write_mode=write_mode(store_kind), _env_file=None)  # type: ignore[call-arg]


@pytest.fixture
async def gateway(settings: Settings) -> AsyncIterator[Gateway]:
    """The real app over ASGI, store migrated."""
    app = create_app(settings)
    migrate(app.state.db.engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
        yield Gateway(app, client, settings)
    app.state.db.dispose()


@pytest.fixture
def redis_url() -> str:
    """The local Redis (DEAL_DESK_TEST_REDIS_URL); without one the test is skipped, or fails where
    DEAL_DESK_REQUIRE_REDIS=1 (CI starts Redis)."""
    url = os.environ.get("DEAL_DESK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
    except redis.RedisError as error:
        if os.environ.get("DEAL_DESK_REQUIRE_REDIS") == "1":
            pytest.fail(f"Redis at {url} is unreachable ({error})")
        pytest.skip(f"Redis at {url} is unreachable ({error}); set DEAL_DESK_TEST_REDIS_URL")
    return url
