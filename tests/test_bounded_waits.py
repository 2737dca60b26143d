"""No request waits on the store longer than DEAL_DESK_STATEMENT_TIMEOUT_S: a held lock or a runaway
statement is answered SERVICE_UNAVAILABLE with Retry-After within the bound, and a mutation cut short writes
nothing."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url

from gateway.core.errors import ServiceUnavailable
from gateway.core.settings import Settings
from gateway.core.tables import advertisers, idempotency_keys
from gateway.store.database import Database
from tests.support.audit import count
from tests.support.gateway import Gateway

TIMEOUT_S = 1.0
HELD_S = 8.0  # far longer than the bound
SLACK_S = 2.5  # a loaded shared machine answers late; still far below HELD_S

CREATE = 'mutation { createAdvertiser(input: {name: "Acme"}) { id } }'
LIST = "{ advertisers(first: 5) { totalCount } }"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The suite's settings with a short bound."""
    return settings.model_copy(update={"statement_timeout_s": TIMEOUT_S})


@contextlib.contextmanager
def lock_held(url: str) -> Iterator[None]:
    """Another client holds a lock that blocks writes (and, on PostgreSQL, reads) of `advertisers`."""
    release, taken = threading.Event(), threading.Event()

    def hold() -> None:
        if url.startswith("sqlite"):
            connection = sqlite3.connect(make_url(url).database, isolation_level=None)
            connection.execute("BEGIN IMMEDIATE")  # SQLite's one write lock
        else:
            connection = psycopg.connect(make_url(url).set(drivername="postgresql").render_as_string(False))
            connection.execute("LOCK TABLE advertisers IN ACCESS EXCLUSIVE MODE")
        taken.set()
        release.wait(HELD_S)
        connection.rollback()
        connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    assert taken.wait(10)
    try:
        yield
    finally:
        release.set()
        holder.join()


async def timed(gateway: Gateway, query: str, token: str) -> tuple[float, int, dict[str, str], dict]:  # type: ignore[type-arg]
    started = time.monotonic()
    response = await gateway.post(query, token=token)
    return time.monotonic() - started, response.status_code, dict(response.headers), response.json()


async def test_a_mutation_behind_a_held_lock_is_unavailable_within_the_bound_and_writes_nothing(
        gateway: Gateway) -> None:
    desk = gateway.token("desk@x.test", "DEAL_DESK")
    await gateway.post("{ me { id } }", token=desk)  # the caller's users row exists before the lock
    with lock_held(gateway.settings.database_url):
        elapsed, status, headers, body = await timed(gateway, CREATE, desk)

    assert TIMEOUT_S * 0.8 <= elapsed < TIMEOUT_S + SLACK_S
    assert status == 503 and headers["retry-after"]
    assert body["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert count(gateway.data.engine, advertisers) == 0
    after = await gateway.post(CREATE, token=desk)  # the connection went back to the pool usable
    assert after.status_code == 200 and "errors" not in after.json()


@pytest.mark.postgres
async def test_a_read_behind_a_held_lock_is_unavailable_within_the_bound(gateway: Gateway) -> None:
    if not gateway.settings.database_url.startswith("postgresql"):
        pytest.skip("SQLite readers never wait for its writer (WAL)")
    desk = gateway.token("desk@x.test", "DEAL_DESK")
    await gateway.post("{ me { id } }", token=desk)
    with lock_held(gateway.settings.database_url):
        elapsed, status, headers, body = await timed(gateway, LIST, desk)

    assert TIMEOUT_S * 0.8 <= elapsed < TIMEOUT_S + SLACK_S
    assert status == 503 and headers["retry-after"]
    assert body["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert (await gateway.data_of(LIST, token=desk))["advertisers"]["totalCount"] == 0


def runaway(connection: Connection) -> object:
    """A statement that would run for minutes."""
    if connection.dialect.name == "sqlite":
        statement = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT max(i) FROM n"
    else:
        statement = "SELECT pg_sleep(600)"
    return connection.execute(text(statement)).scalar()


async def test_a_runaway_statement_is_cut_short_within_the_bound(settings: Settings) -> None:
    db = Database(settings.database_url, settings)
    try:
        started = time.monotonic()
        with pytest.raises(ServiceUnavailable):
            await db.read(runaway)
        elapsed = time.monotonic() - started
        answered = await db.read(lambda connection: connection.execute(text("SELECT 1")).scalar())
    finally:
        db.dispose()

    assert TIMEOUT_S * 0.8 <= elapsed < TIMEOUT_S + SLACK_S
    assert answered == 1


async def test_a_keyed_mutation_behind_a_held_lock_leaves_no_claim_and_its_retry_runs(
        gateway: Gateway) -> None:
    desk = gateway.token("desk@x.test", "DEAL_DESK")
    await gateway.post("{ me { id } }", token=desk)
    key = {"idempotency-key": "behind-the-lock"}
    with lock_held(gateway.settings.database_url):
        started = time.monotonic()
        cut = await gateway.client.post("/graphql", json={"query": CREATE}, headers={
            "authorization": f"Bearer {desk}", **key})
        elapsed = time.monotonic() - started
    retried = await gateway.client.post("/graphql", json={"query": CREATE}, headers={
        "authorization": f"Bearer {desk}", **key})

    assert elapsed < TIMEOUT_S + SLACK_S and cut.status_code == 503 and cut.headers["retry-after"]
    assert count(gateway.data.engine, idempotency_keys) == 1 and count(gateway.data.engine, advertisers) == 1
    assert retried.status_code == 200 and "idempotent-replayed" not in retried.headers
