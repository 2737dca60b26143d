"""Idempotency claims on Databricks, which enforces no primary key: MERGE (insert if absent, take over an
expired key), then the row read back must carry this request's claim token. The fake warehouse holds
`idempotency_keys` as Delta would, including a race it let through (two rows for one key)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.core.errors import Conflict
from gateway.core.settings import Settings
from gateway.http.idempotency import IdempotencyMiddleware, Keyed
from gateway.store import idempotency as store
from gateway.store import retry
from gateway.store.database import Database
from gateway.store.retry import Backoff
from tests.support import warehouse_errors as errors
from tests.support.fake_warehouse import FakeWarehouse, fake_warehouse

URL = "databricks://adb-1.azuredatabricks.net?http_path=/sql/1.0/warehouses/abc&catalog=main&schema=deal_desk_test"
NOW = dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.UTC)
TTL = dt.timedelta(hours=24)
SUB, KEY = "dev|desk@x.test", "key-1"
MERGE = "MERGE INTO idempotency_keys"


class KeyTable:
    """`idempotency_keys` in the warehouse: rows per (caller, key); `racing` lets a MERGE insert a duplicate,
    as two MERGEs that both saw no row would without Delta's conflict check."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.racing = False

    def __call__(self, sql: str, params: dict[str, Any] | None) -> list[tuple[Any, ...]] | None:
        values = dict(params or {})
        if sql.startswith(MERGE):
            self.merge(values)
        elif sql.startswith("SELECT idempotency_keys.response_body"):
            return [(row["response_body"],) for row in self.of(values)]
        elif sql.startswith("DELETE FROM idempotency_keys") and "response_body" in sql:
            self.rows[(values["caller_sub_1"], values["key_1"])].remove(
                next(r for r in self.of(values) if r["response_body"] == values["response_body_1"]))
        return None

    def merge(self, row: dict[str, Any]) -> None:
        held = self.rows.setdefault((row["caller_sub"], row["key"]), [])
        expired = [old for old in held if old["expires_at"] <= row["created_at"]]
        for old in expired:
            old.update(row)
        if not held or self.racing:
            held.append(row)

    def of(self, values: dict[str, Any]) -> list[dict[str, Any]]:
        held = self.rows.get((values["caller_sub_1"], values["key_1"]), [])
        return sorted(held, key=lambda row: (row["created_at"], row["response_body"]))

    def hold(self, token: str, *, created_at: dt.datetime, expires_at: dt.datetime) -> None:
        """Another request's claim, as the warehouse stores it (naive UTC instants)."""
        self.rows.setdefault((SUB, KEY), []).append({
            "caller_sub": SUB, "key": KEY, "response_body": token, "status": store.IN_PROGRESS,
            "created_at": created_at.replace(tzinfo=None), "expires_at": expires_at.replace(tzinfo=None)})


@pytest.fixture
def table() -> KeyTable:
    return KeyTable()


@pytest.fixture
def warehouse(table: KeyTable) -> Iterator[FakeWarehouse]:
    with fake_warehouse() as fake:
        fake.respond = table
        yield fake


@pytest.fixture
def db(warehouse: FakeWarehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    monkeypatch.setattr(retry, "configured", lambda: Backoff(max_s=0.3, base_s=0.001, cap_s=0.01))
    database = Database(URL, Settings(database_url=URL, databricks_token="dapi-test",  # type: ignore[call-arg]
                                      _env_file=None))
    yield database
    database.dispose()


async def claim(db: Database, now: dt.datetime = NOW) -> bool:
    return await db.write(store.claim, sub=SUB, key=KEY, request_hash="h1", now=now, ttl=TTL)


def merges(warehouse: FakeWarehouse) -> list[tuple[str, Any]]:
    return [(sql, params) for sql, params in warehouse.statements if sql.startswith(MERGE)]


async def test_the_first_claim_of_a_key_wins_and_the_next_finds_it_held(
        db: Database, table: KeyTable) -> None:
    assert await claim(db) is True
    assert await claim(db, NOW + dt.timedelta(seconds=1)) is False
    (row,) = table.rows[(SUB, KEY)]
    assert row["status"] == store.IN_PROGRESS and row["response_body"].startswith(store.CLAIM_PREFIX)


async def test_an_expired_key_is_taken_over(db: Database, table: KeyTable) -> None:
    table.hold("claim:old", created_at=NOW - 2 * TTL, expires_at=NOW - TTL)
    assert await claim(db) is True
    (row,) = table.rows[(SUB, KEY)]
    assert row["created_at"] == NOW.replace(tzinfo=None) and row["request_hash"] == "h1"


async def test_a_claim_sends_its_values_as_parameters_never_as_sql(
        db: Database, warehouse: FakeWarehouse) -> None:
    await claim(db)
    ((sql, params),) = merges(warehouse)
    assert SUB not in sql and KEY not in sql and params["caller_sub"] == SUB
    assert params["created_at"] == NOW.replace(tzinfo=None)  # stored as naive UTC (TIMESTAMP_NTZ)


async def test_a_claim_losing_a_delta_race_merges_again_and_finds_the_key_held(
        db: Database, warehouse: FakeWarehouse, table: KeyTable) -> None:
    table.hold("claim:winner", created_at=NOW, expires_at=NOW + TTL)  # committed while ours was refused
    warehouse.fail(errors.delta_conflict(), on=MERGE)
    assert await claim(db) is False
    assert len(merges(warehouse)) == 2


async def test_a_duplicate_the_store_let_through_loses_to_the_first_claim_and_is_removed(
        db: Database, table: KeyTable) -> None:
    table.racing = True
    table.hold("claim:first", created_at=NOW - dt.timedelta(milliseconds=3), expires_at=NOW + TTL)
    assert await claim(db) is False
    assert [row["response_body"] for row in table.rows[(SUB, KEY)]] == ["claim:first"]


async def test_a_claim_that_keeps_conflicting_is_a_conflict(db: Database, warehouse: FakeWarehouse) -> None:
    warehouse.fail(errors.delta_conflict(), times=10_000, on=MERGE)
    with pytest.raises(Conflict):
        await claim(db)


async def test_the_middleware_treats_a_key_it_cannot_claim_for_conflicts_as_held(
        db: Database, warehouse: FakeWarehouse) -> None:
    warehouse.fail(errors.delta_conflict(), times=10_000, on=MERGE)
    middleware = IdempotencyMiddleware(lambda *_: None, db=db)  # type: ignore[arg-type]
    assert await middleware._claim(Keyed(SUB, KEY, "h1")) is None


async def test_completing_a_key_survives_a_delta_race(
        db: Database, warehouse: FakeWarehouse) -> None:
    warehouse.fail(errors.delta_conflict("DELTA_CONCURRENT_DELETE_READ"), on="UPDATE idempotency_keys")
    await db.write(store.complete, sub=SUB, key=KEY, status=200, body="{}")
    assert sum(sql.startswith("UPDATE idempotency_keys") for sql in warehouse.sql()) == 2
