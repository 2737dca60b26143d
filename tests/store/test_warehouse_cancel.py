"""Bounded waits on Databricks: a request's statement still running after DEAL_DESK_STATEMENT_TIMEOUT_S is
cancelled (`Cursor.cancel` from another thread) and answers SERVICE_UNAVAILABLE within the bound; the
engine's other users (seed, migrate, backup) keep the warehouse's own statement timeout."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Connection, text

from gateway.app import create_app
from gateway.core import tables
from gateway.core.errors import ServiceUnavailable
from gateway.core.settings import Settings
from gateway.store.audit import Actor
from gateway.store.database import Database
from gateway.store.writer import Writer
from tests.support.fake_warehouse import FakeWarehouse, fake_warehouse
from tests.support.gateway import Gateway
from tests.support.statements import FakeRow, sample_row

URL = "databricks://adb-1.azuredatabricks.net?http_path=/sql/1.0/warehouses/abc&catalog=main&schema=deal_desk_test"
TIMEOUT_S = 0.3
SLACK_S = 1.5  # thread start-up and a loaded machine; far below the 30 s a held statement would run
ANSWER = "SELECT 42"


def settings(tmp_path: Path, **values: Any) -> Settings:
    return Settings(database_url=URL, databricks_token="dapi-test", migrate_on_start=False,  # type: ignore[call-arg]
                    dev_key_file=str(tmp_path / "dev-key.json"), statement_timeout_s=TIMEOUT_S,
                    store_retry_max_s=0.3, _env_file=None, **values)


@pytest.fixture
def warehouse() -> Iterator[FakeWarehouse]:
    with fake_warehouse() as fake:
        yield fake


@pytest.fixture
def db(warehouse: FakeWarehouse, tmp_path: Path) -> Iterator[Database]:
    database = Database(URL, settings(tmp_path))
    yield database
    database.dispose()


def answer(connection: Connection) -> list[Any]:
    return list(connection.execute(text(ANSWER)).all())


def sent(warehouse: FakeWarehouse, statement: str) -> int:
    return sum(statement in sql for sql in warehouse.sql())


async def test_a_read_running_past_the_timeout_is_cancelled_and_unavailable_within_the_bound(
        db: Database, warehouse: FakeWarehouse) -> None:
    warehouse.hold(on=ANSWER)
    started = time.monotonic()
    with pytest.raises(ServiceUnavailable):
        await db.read(answer)
    assert TIMEOUT_S <= time.monotonic() - started < TIMEOUT_S + SLACK_S
    assert warehouse.cancels == 1 and sent(warehouse, ANSWER) == 1  # a timeout is not retried


async def test_a_cancelled_statements_connection_serves_the_next_call(
        db: Database, warehouse: FakeWarehouse) -> None:
    warehouse.hold(on=ANSWER)
    with pytest.raises(ServiceUnavailable):
        await db.read(answer)
    warehouse.respond = lambda sql, _params: [(42,)] if sql == ANSWER else None
    assert await db.read(answer) == [(42,)]
    assert len(warehouse.connects) == 1 and db.engine.pool.checkedout() == 0  # type: ignore[attr-defined]


async def test_a_statement_answered_in_time_is_never_cancelled(
        db: Database, warehouse: FakeWarehouse) -> None:
    warehouse.respond = lambda sql, _params: [(42,)] if sql == ANSWER else None
    assert await db.read(answer) == [(42,)]
    time.sleep(TIMEOUT_S + 0.2)  # past the deadline the answered statement's watch would have had
    assert warehouse.cancels == 0


async def test_a_journaled_write_cut_short_is_unavailable_and_leaves_its_operation_unfinished(
        db: Database, warehouse: FakeWarehouse) -> None:
    def rename(connection: Connection) -> None:
        deal = FakeRow(sample_row(tables.deals))
        Writer(connection, Actor(user_id="u-1", sub="sub-1")).update(tables.deals, deal, {"name": "Renamed"})

    warehouse.hold(on="UPDATE deals")
    with pytest.raises(ServiceUnavailable):
        await db.write(rename)
    states = [str((params or {}).get("state")) for sql, params in warehouse.statements
              if sql.startswith("INSERT INTO write_operations")]
    assert warehouse.cancels == 1 and states == ["PENDING"]  # settled as a crashed one: verify --repair


def test_the_engines_other_users_keep_the_warehouses_own_timeout(
        db: Database, warehouse: FakeWarehouse) -> None:
    warehouse.hold(on=ANSWER, longest_s=TIMEOUT_S + 0.5)  # a long migration or backup statement
    started = time.monotonic()
    with db.engine.connect() as connection:
        connection.execute(text(ANSWER))
    assert time.monotonic() - started >= TIMEOUT_S + 0.5 and warehouse.cancels == 0


@pytest.fixture
async def gateway(warehouse: FakeWarehouse, tmp_path: Path) -> AsyncIterator[Gateway]:
    app = create_app(settings(tmp_path))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
        yield Gateway(app, client, app.state.settings)
    app.state.db.dispose()


async def test_a_query_held_on_the_warehouse_answers_503_with_a_retry_hint_within_the_bound(
        gateway: Gateway, warehouse: FakeWarehouse) -> None:
    token = gateway.token("desk@x.test", "DEAL_DESK")
    warehouse.respond = lambda sql, _params: [(7,)] if "count(" in sql.lower() else None
    assert await gateway.data_of("{ deals { totalCount } }", token=token) == {"deals": {"totalCount": 7}}
    warehouse.hold(on="FROM deals")
    started = time.monotonic()
    response = await gateway.post("{ deals { totalCount } }", token=token)
    assert time.monotonic() - started < TIMEOUT_S + SLACK_S
    (error,) = response.json()["errors"]
    assert response.status_code == 503 and int(response.headers["retry-after"]) > 0
    assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE" and warehouse.cancels == 1
