"""On PostgreSQL a read is one round trip (no BEGIN, ROLLBACK or ping around it) and the pool is reused.

The round trips are read off the wire: libpq's own protocol trace of every connection the gateway opens
(each `Query` or `Sync` the client sends waits for the server once).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from psycopg import pq
from sqlalchemy import Engine, event

from gateway.core.settings import Settings
from gateway.store import pg_pool
from gateway.store import threads as store_threads
from tests.support.gateway import Gateway
from tests.support.stores import POSTGRES_URL
from tests.test_deal import DEAL_PAGE, approved_deal, cast

pytestmark = [pytest.mark.postgres,
              pytest.mark.skipif(POSTGRES_URL is None, reason="needs DEAL_DESK_TEST_POSTGRES_URL")]
STORE_KINDS = ["postgresql"]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The fixture's settings without the per-caller rate limit (one caller sends 500 pages at once)."""
    return settings.model_copy(update={"rate_limit_per_s": 0})


class Wire:
    """The client's side of the protocol, on every connection the engine opens from now on."""

    def __init__(self, engine: Engine, folder: Path) -> None:
        self.engine, self.folder, self.traced = engine, folder, list[Any]()
        engine.dispose()  # every connection from here on is new, and traced
        event.listen(engine, "connect", self._trace)

    def _trace(self, dbapi_connection: Any, _record: Any) -> None:
        file = (self.folder / f"wire-{len(self.traced)}.log").open("w")
        dbapi_connection.pgconn.trace(file.fileno())
        dbapi_connection.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)
        self.traced.append((dbapi_connection, file))

    def sent(self) -> list[str]:
        """Each message the client sent, as `Query "..."` or its type (`Parse`, `Sync`, ...)."""
        event.remove(self.engine, "connect", self._trace)
        for dbapi_connection, file in self.traced:
            dbapi_connection.pgconn.untrace()  # flushes libpq's buffer
            file.close()
        logs = sorted(self.folder.glob("wire-*.log"))
        lines = [line for path in logs for line in path.read_text().splitlines()]
        return [line.split("\t", 3)[2] + (line.split("\t", 3)[3] if "\tQuery\t" in line else "")
                for line in lines if line.startswith("F\t")]


def round_trips(sent: list[str]) -> int:
    """Messages that wait for the server: simple queries and the Sync of each extended-protocol statement."""
    return sum(1 for message in sent if message == "Sync" or message.startswith("Query"))


async def test_a_deal_page_is_one_round_trip_per_statement_with_no_transaction_around_reads(
    gateway: Gateway, tmp_path: Path
) -> None:
    deal_id = approved_deal(gateway.data, **cast(gateway.data))
    token = gateway.token("desk@x.test", "DEAL_DESK", region="NA")
    await gateway.data_of("{ me { id } }", token=token)  # the caller's users row is written and cached

    wire = Wire(gateway.app.state.db.engine, tmp_path)
    deal = (await gateway.data_of(DEAL_PAGE, {"id": deal_id}, token=token))["deal"]
    sent = wire.sent()

    assert deal["id"] == deal_id
    queries = [message for message in sent if message.startswith("Query")]
    assert queries == []  # no BEGIN, ROLLBACK or ping: each statement goes alone
    assert round_trips(sent) == sent.count("Parse") == 7  # the deal page's 7 statements, nothing else


async def test_a_write_still_runs_in_one_transaction(gateway: Gateway, tmp_path: Path) -> None:
    gateway.data.user("desk@x.test", "DEAL_DESK")
    token = gateway.token("desk@x.test", "DEAL_DESK")
    await gateway.data_of("{ me { id } }", token=token)

    wire = Wire(gateway.app.state.db.engine, tmp_path)
    await gateway.data_of('mutation { createAdvertiser(input: {name: "Acme"}) { id } }', token=token)
    sent = wire.sent()

    queries = [message for message in sent if message.startswith("Query")]
    assert queries[0] == 'Query "BEGIN"' and queries[-1] == 'Query "COMMIT"'
    assert queries.count('Query "BEGIN"') == 1


async def test_deal_pages_in_parallel_reuse_the_pools_connections(gateway: Gateway) -> None:
    deal_id = approved_deal(gateway.data, **cast(gateway.data))
    token = gateway.token("desk@x.test", "DEAL_DESK", region="NA")
    await gateway.data_of("{ me { id } }", token=token)
    engine = gateway.app.state.db.engine
    opened = []
    event.listen(engine, "connect", lambda *_: opened.append(1))

    async def pages(count: int) -> None:
        for _ in range(count):
            assert (await gateway.data_of(DEAL_PAGE, {"id": deal_id}, token=token))["deal"]["id"] == deal_id

    async with gateway.app.router.lifespan_context(gateway.app):  # serving: the store threads are sized
        await asyncio.gather(*(pages(10) for _ in range(50)))  # 500 pages, 50 at a time

    pool_size = store_threads.count(gateway.settings, "postgresql") + pg_pool.UNITS
    assert engine.pool.size() == pool_size
    assert len(opened) <= store_threads.count(gateway.settings, "postgresql")  # no churn: opened once
