"""The gateway over a Databricks warehouse that refuses, resets or conflicts: the fake warehouse raises the
connector's own errors; reads are retried with backoff, then answer or give SERVICE_UNAVAILABLE (HTTP 503
with a retry hint); a write statement losing Delta commit races is retried, then CONFLICT."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Connection, text

from gateway.app import create_app
from gateway.core import tables
from gateway.core.errors import Conflict, ServiceUnavailable
from gateway.core.settings import Settings
from gateway.store import journal, retry
from gateway.store.audit import Actor
from gateway.store.database import Database
from gateway.store.retry import Backoff
from gateway.store.writer import Writer
from tests.support import warehouse_errors as errors
from tests.support.fake_warehouse import FakeWarehouse, fake_warehouse
from tests.support.gateway import Gateway
from tests.support.statements import FakeRow, sample_row

URL = "databricks://adb-1.azuredatabricks.net?http_path=/sql/1.0/warehouses/abc&catalog=main&schema=deal_desk_test"
FAST = Backoff(max_s=0.5, base_s=0.001, cap_s=0.01)
ANSWER = "SELECT 42"
DEALS = "{ deals { totalCount } }"
COUNT = "FROM deals"


def settings(tmp_path: Path, **values: Any) -> Settings:
    return Settings(database_url=URL, databricks_token="dapi-test", migrate_on_start=False,  # type: ignore[call-arg]
                    dev_key_file=str(tmp_path / "dev-key.json"), _env_file=None, **values)


@pytest.fixture
def warehouse() -> Iterator[FakeWarehouse]:
    with fake_warehouse() as fake:
        yield fake


@pytest.fixture
def db(warehouse: FakeWarehouse, tmp_path: Path) -> Iterator[Database]:
    database = Database(URL, settings(tmp_path))
    database.read_retry = FAST
    yield database
    database.dispose()


def answer(connection: Connection) -> list[Any]:
    return list(connection.execute(text(ANSWER)).all())


def sent(warehouse: FakeWarehouse, statement: str) -> int:
    return sum(statement in sql for sql in warehouse.sql())


@pytest.mark.parametrize("error", [errors.refused(503), errors.refused(429), errors.connection_reset(),
                                   errors.session_closed()], ids=["503", "429", "reset", "session-closed"])
async def test_a_read_is_run_again_until_the_warehouse_answers(
        db: Database, warehouse: FakeWarehouse, error: Exception) -> None:
    warehouse.fail(error, times=2, on=ANSWER)
    assert await db.read(answer) == []
    assert sent(warehouse, ANSWER) == 3


async def test_a_warehouse_that_stays_down_is_service_unavailable(
        db: Database, warehouse: FakeWarehouse) -> None:
    warehouse.fail(errors.refused(503), times=10_000, on=ANSWER)
    with pytest.raises(ServiceUnavailable):
        await db.read(answer)
    assert 3 <= sent(warehouse, ANSWER) < 10_000  # retried, and bounded in time


async def test_a_refused_token_is_not_retried(db: Database, warehouse: FakeWarehouse) -> None:
    warehouse.fail(errors.unauthorized(), on=ANSWER)
    with pytest.raises(ServiceUnavailable):  # OperationalError, as before: the store cannot be used
        await db.read(answer)
    assert sent(warehouse, ANSWER) == 1


def test_a_write_statement_losing_delta_races_is_run_again(db: Database, warehouse: FakeWarehouse) -> None:
    warehouse.fail(errors.delta_conflict(), times=2, on="DELETE FROM idempotency_keys")
    with db.engine.connect() as connection:
        retry.run_write_statement(lambda: connection.execute(text("DELETE FROM idempotency_keys")), FAST)
    assert sent(warehouse, "DELETE FROM idempotency_keys") == 3


def test_a_write_statement_that_keeps_conflicting_is_a_conflict(
        db: Database, warehouse: FakeWarehouse) -> None:
    warehouse.fail(errors.delta_conflict(), times=10_000, on="DELETE FROM idempotency_keys")
    with db.engine.connect() as connection, pytest.raises(Conflict):
        retry.run_write_statement(lambda: connection.execute(text("DELETE FROM idempotency_keys")), FAST)


async def test_an_unretried_conflict_in_a_write_is_a_conflict_not_a_server_error(
        db: Database, warehouse: FakeWarehouse) -> None:
    warehouse.fail(errors.delta_conflict(), on="UPDATE deals")
    with pytest.raises(Conflict):
        await db.write(lambda connection: connection.execute(text("UPDATE deals SET name = 'x'")))


def test_the_connector_retries_refused_requests_within_the_same_budget(
        warehouse: FakeWarehouse, tmp_path: Path) -> None:
    database = Database(URL, settings(tmp_path, store_retry_max_s=4))
    with database.engine.connect() as connection:
        connection.exec_driver_sql("SELECT 1")
    database.dispose()
    (given,) = warehouse.connects
    assert given["_retry_stop_after_attempts_duration"] == 4 and given["_retry_delay_max"] == 5


# ---------------------------------------------------------------- through the HTTP API


@pytest.fixture
async def gateway(warehouse: FakeWarehouse, tmp_path: Path) -> AsyncIterator[Gateway]:
    """The real app on the fake warehouse (which creates the caller's users row on first sight)."""
    app = create_app(settings(tmp_path, store_retry_max_s=0.3))
    app.state.db.read_retry = FAST
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
        yield Gateway(app, client, app.state.settings)
    app.state.db.dispose()


def counting(rows: int) -> Any:
    """A warehouse answer: `rows` for the deal count, nothing for anything else."""
    return lambda sql, _params: [(rows,)] if COUNT in sql and "count(" in sql.lower() else None


async def test_a_query_answers_after_the_warehouse_refused_twice(
        gateway: Gateway, warehouse: FakeWarehouse) -> None:
    warehouse.respond = counting(7)
    warehouse.fail(errors.refused(503), times=2, on=COUNT)
    data = await gateway.data_of(DEALS, token=gateway.token("desk@x.test", "DEAL_DESK"))
    assert data == {"deals": {"totalCount": 7}}


async def test_a_query_on_a_warehouse_that_stays_down_is_503_with_a_retry_hint(
        gateway: Gateway, warehouse: FakeWarehouse) -> None:
    warehouse.fail(errors.refused(503), times=10_000, on=COUNT)
    response = await gateway.post(DEALS, token=gateway.token("desk@x.test", "DEAL_DESK"))
    (error,) = response.json()["errors"]
    assert response.status_code == 503 and int(response.headers["retry-after"]) > 0
    assert error["extensions"] == {"code": "SERVICE_UNAVAILABLE", "retryAfterSeconds": 5}
    assert "TEMPORARILY_UNAVAILABLE" not in response.text and "Traceback" not in response.text


def journaled_rename(db: Database) -> None:
    """A journaled deal rename, flushed to the warehouse."""
    deal = FakeRow(sample_row(tables.deals))
    with db.engine.connect() as connection:
        operation = journal.begin(connection)
        Writer(connection, Actor(user_id="u-1", sub="sub-1")).update(tables.deals, deal, {"name": "Renamed"})
        journal.flush(connection, operation)


def markers(warehouse: FakeWarehouse) -> list[str]:
    """The states of the write_operations rows sent, in order."""
    return [str((params or {}).get("state")) for sql, params in warehouse.statements
            if sql.startswith("INSERT INTO write_operations")]


def test_a_journaled_anchor_losing_a_commit_race_is_sent_again(
        db: Database, warehouse: FakeWarehouse, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retry, "configured", lambda: FAST)
    warehouse.fail(errors.delta_conflict(), times=2, on="UPDATE deals")
    journaled_rename(db)
    assert sent(warehouse, "UPDATE deals") == 3
    assert markers(warehouse) == ["PENDING", "COMMITTED"]


def test_a_journaled_anchor_that_keeps_losing_aborts_the_operation_as_a_conflict(
        db: Database, warehouse: FakeWarehouse, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retry, "configured", lambda: FAST)
    warehouse.fail(errors.delta_conflict(), times=10_000, on="UPDATE deals")
    with pytest.raises(Conflict):
        journaled_rename(db)
    assert markers(warehouse) == ["PENDING", "ABORTED"]
