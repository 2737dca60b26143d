"""PostgreSQL connections killed server-side (pg_terminate_backend) under and between requests: a read is
retried on a new connection, a write answers 503 SERVICE_UNAVAILABLE (never a 500, no SQL), and the next
request works. The server itself is shared and stays up."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio.to_thread
import httpx
import psycopg
import pytest
from sqlalchemy import Engine, event

from gateway.store import pg_pool
from tests.support.gateway import Gateway
from tests.support.stores import POSTGRES_URL, fresh_url

pytestmark = [pytest.mark.postgres,
              pytest.mark.skipif(POSTGRES_URL is None, reason="needs DEAL_DESK_TEST_POSTGRES_URL")]

COUNT = "{ advertisers { totalCount } }"
CREATE = 'mutation { createAdvertiser(input: {name: "Acme"}) { id name } }'
LEAKS = ("SELECT", "INSERT", "Traceback", "psycopg", "terminating", "sqlalche.me")


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """A new empty PostgreSQL database, dropped afterwards."""
    yield from fresh_url("postgresql", tmp_path)


class Hold:
    """Holds the next statement of `engine` in its worker thread until released; notes each one's backend."""

    def __init__(self, engine: Engine) -> None:
        self.engine, self.reached, self.released = engine, threading.Event(), threading.Event()
        self.backends: list[int] = []
        event.listen(engine, "before_cursor_execute", self._before)

    def _before(self, connection: Any, *_rest: Any) -> None:
        self.backends.append(connection.connection.dbapi_connection.info.backend_pid)
        if not self.reached.is_set():
            self.reached.set()
            assert self.released.wait(10)

    def remove(self) -> None:
        """Stop watching."""
        event.remove(self.engine, "before_cursor_execute", self._before)


def kill_gateway_connections(url: str) -> int:
    """pg_terminate_backend on every other session of the database, waiting until each is gone."""
    with psycopg.connect(url, autocommit=True) as admin:
        others = admin.execute("SELECT pid FROM pg_stat_activity"
                               " WHERE datname = current_database() AND pid <> pg_backend_pid()")
        pids = [pid for (pid,) in others]
        for pid in pids:
            admin.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])
    return len(pids)


async def warm(gateway: Gateway) -> str:
    """A caller whose users row is written and cached, after one request that filled the pool."""
    gateway.data.user("desk@x.test", "DEAL_DESK")
    token = gateway.token("desk@x.test", "DEAL_DESK")
    assert await gateway.data_of(COUNT, token=token) == {"advertisers": {"totalCount": 0}}
    return token


async def killed_under(gateway: Gateway, query: str, token: str) -> tuple[httpx.Response, Hold, int]:
    """The response to `query` whose first statement finds its connection (and every other) killed."""
    hold = Hold(gateway.app.state.db.engine)
    try:
        request = asyncio.create_task(gateway.post(query, token=token))
        assert await anyio.to_thread.run_sync(hold.reached.wait, 10)
        killed = await anyio.to_thread.run_sync(kill_gateway_connections, gateway.settings.database_url)
        hold.released.set()
        return await request, hold, killed
    finally:
        hold.released.set()
        hold.remove()


async def test_a_read_whose_connection_is_killed_is_retried_once_on_a_new_one(
    gateway: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    token = await warm(gateway)
    with caplog.at_level(logging.WARNING, "deal_desk.store"):
        response, hold, killed = await killed_under(gateway, COUNT, token)

    assert killed >= 1
    assert response.status_code == 200 and response.json() == {"data": {"advertisers": {"totalCount": 0}}}
    killed_session, *later = hold.backends
    assert later and killed_session not in later  # the retry (and the rest) ran on a new session
    assert "retrying once" in caplog.text


async def test_a_write_whose_connection_is_killed_answers_503_and_the_next_request_works(
    gateway: Gateway,
) -> None:
    token = await warm(gateway)
    response, hold, killed = await killed_under(gateway, CREATE, token)

    assert killed >= 1 and len(hold.backends) == 1  # never retried: the write may not be repeated
    assert response.status_code == 503 and response.headers["retry-after"] == "5"
    body = response.json()
    assert body["data"] is None
    assert [error["extensions"]["code"] for error in body["errors"]] == ["SERVICE_UNAVAILABLE"]
    assert not [leak for leak in LEAKS if leak in response.text]

    created = await gateway.data_of(CREATE, token=token)
    assert created["createAdvertiser"]["name"] == "Acme"
    counted = await gateway.data_of(COUNT, token=token)
    assert counted == {"advertisers": {"totalCount": 1}}  # the killed write left nothing behind


async def test_connections_killed_while_idle_are_replaced_before_use(
    gateway: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    token = await warm(gateway)
    assert kill_gateway_connections(gateway.settings.database_url) >= 1
    await asyncio.sleep(pg_pool.IDLE_PING_S + 0.2)  # idle long enough to be pinged at checkout

    with caplog.at_level(logging.WARNING, "deal_desk.store"):
        created = await gateway.data_of(CREATE, token=token)
        counted = await gateway.data_of(COUNT, token=token)
    ready = await gateway.client.get("/readyz")

    assert created["createAdvertiser"]["name"] == "Acme" and counted == {"advertisers": {"totalCount": 1}}
    assert ready.status_code == 200
    lost = [record for record in caplog.records if record.name == "deal_desk.store"]
    assert lost == []  # the idle ping found the dead sessions: no request saw one
