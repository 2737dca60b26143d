"""user_access, the governed views' copy of the users rows, follows them on Databricks (recorded, no network):
in a journaled write that changes a user (before COMMITTED), and in full from migrate, seed, restore and
`audit verify --repair`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.core.settings import Settings
from gateway.ops import backup, repair, seed
from gateway.store import journal, user
from gateway.store.database import Database
from gateway.store.migrate import migrate
from tests.support.fake_warehouse import FakeWarehouse, fake_warehouse
from tests.support.statements import FakeRow, sample_row

URL = "databricks://adb-1.azuredatabricks.net?http_path=/sql/1.0/warehouses/abc&catalog=main&schema=deal_desk_test"
FULL_SYNC = "MERGE INTO `main`.`deal_desk_test`.`user_access` AS target"
ONE_USER = "MERGE INTO user_access AS target"


@pytest.fixture
def warehouse() -> Iterator[FakeWarehouse]:
    with fake_warehouse() as fake:
        yield fake


@pytest.fixture
def db(warehouse: FakeWarehouse, tmp_path: Path) -> Iterator[Database]:
    settings = Settings(database_url=URL, databricks_token="dapi-test",  # type: ignore[arg-type]
                        _env_file=None)  # type: ignore[call-arg]
    database = Database(URL, settings)
    yield database
    database.dispose()


def sent(warehouse: FakeWarehouse) -> list[str]:
    return [sql for sql in warehouse.sql() if sql != "SELECT 1"]


def state_markers(warehouse: FakeWarehouse) -> list[tuple[int, str]]:
    return [(index, str((params or {}).get("state")))
            for index, (sql, params) in enumerate(warehouse.statements)
            if sql.startswith("INSERT INTO write_operations")]


def test_a_sign_in_that_creates_a_user_merges_them_into_user_access_before_committed(
        db: Database, warehouse: FakeWarehouse) -> None:
    with db.engine.connect() as connection:
        operation = journal.begin(connection)
        new_id = user.create(connection, sub="okta|1", values={
            "email": "Ana@Example.com", "display_name": "Ana", "region": "EMEA", "roles": "SELLER"})
        journal.flush(connection, operation)
    merges = [(index, params) for index, (sql, params) in enumerate(warehouse.statements)
              if sql.startswith(ONE_USER)]
    assert len(merges) == 1
    (index, params), markers = merges[0], state_markers(warehouse)
    assert [state for _, state in markers] == ["PENDING", "COMMITTED"]
    assert markers[0][0] < index < markers[1][0]
    assert new_id in (params or {}).values()
    (merge,) = [sql for sql in sent(warehouse) if sql.startswith(ONE_USER)]
    assert "WHEN MATCHED AND NOT source.active THEN DELETE" in merge and "lower(email)" in merge


def test_a_write_that_changes_no_user_sends_no_merge(db: Database, warehouse: FakeWarehouse) -> None:
    from gateway.core import tables
    from gateway.store.audit import Actor
    from gateway.store.writer import Writer

    with db.engine.connect() as connection:
        operation = journal.begin(connection)
        Writer(connection, Actor(user_id="u-1", sub="sub-1")).update(
            tables.deals, FakeRow(sample_row(tables.deals)), {"name": "Renamed"})  # type: ignore[arg-type]
        journal.flush(connection, operation)
    assert not [sql for sql in sent(warehouse) if "user_access" in sql]


def test_migrate_seed_restore_and_repair_each_refresh_user_access_in_full(
        db: Database, warehouse: FakeWarehouse) -> None:
    migrate(db.engine)
    after_migrate = sum(sql.startswith(FULL_SYNC) for sql in sent(warehouse))
    assert after_migrate == 1
    assert any(sql.startswith("CREATE TABLE IF NOT EXISTS `main`.`deal_desk_test`.`user_access`")
               for sql in sent(warehouse))
    repair.repair(db.engine)
    backup.restore(db.engine, URL, "deal_desk_backup", force=True)
    warehouse.respond = lambda sql, _params: [(0,)] if "count(*)" in sql else None  # an empty store
    seed.seed(db.engine, scale=1, progress=False)
    assert sum(sql.startswith(FULL_SYNC) for sql in sent(warehouse)) == 4
