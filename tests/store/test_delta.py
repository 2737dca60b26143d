"""`deal-desk migrate` on Databricks: the DDL it sends to an empty warehouse (recorded, no network)."""

from __future__ import annotations

import pytest
from sqlalchemy import CheckConstraint

from gateway.core import tables
from gateway.core.settings import Settings
from gateway.store import engine as engines
from gateway.store.delta import DELTA_PROPERTIES
from gateway.store.migrate import MIGRATIONS, migrate
from tests.support.fake_warehouse import FakeWarehouse, fake_warehouse

URL = "databricks://adb-1.azuredatabricks.net?http_path=/sql/1.0/warehouses/abc&catalog=main&schema=deal_desk_test"
ALL_TABLES = [*tables.CORE_TABLES, *tables.WORKFLOW_TABLES, tables.schema_version]


@pytest.fixture
def warehouse() -> FakeWarehouse:
    """A warehouse that `migrate` ran on twice."""
    settings = Settings(database_url=URL, databricks_token="dapi-test", _env_file=None)  # type: ignore[call-arg]
    with fake_warehouse() as fake:
        engine = engines.create(URL, settings)
        assert [m.version for m in migrate(engine)] == [m.version for m in MIGRATIONS]
        fake.statements.append(("-- second run", None))
        assert migrate(engine) == []
        engine.dispose()
    return fake


def first_run(fake: FakeWarehouse) -> list[str]:
    return fake.sql()[: fake.sql().index("-- second run")]


def create_table(fake: FakeWarehouse, name: str) -> str:
    (found,) = [sql for sql in first_run(fake) if sql.strip().startswith(f"CREATE TABLE {name} (")]
    return found


def test_the_schema_is_created_first_from_a_session_on_the_catalog(warehouse: FakeWarehouse) -> None:
    sent = first_run(warehouse)
    assert sent[:2] == ["SHOW SCHEMAS", "CREATE SCHEMA IF NOT EXISTS deal_desk_test"]
    assert warehouse.connects[0]["schema"] is None and warehouse.connects[0]["catalog"] == "main"
    assert warehouse.connects[1]["schema"] == "deal_desk_test"  # the gateway's own sessions


@pytest.mark.parametrize("table", ALL_TABLES, ids=lambda table: table.name)
def test_every_table_is_delta_kept_seven_years_with_row_level_concurrency(
    warehouse: FakeWarehouse, table: tables.Table
) -> None:
    ddl = create_table(warehouse, table.name)
    assert "USING DELTA" in ddl
    for key, value in DELTA_PROPERTIES.items():
        assert f"'{key}' = '{value}'" in ddl
    assert "'delta.logRetentionDuration' = 'interval 2557 days'" in ddl
    assert ddl.count("TBLPROPERTIES") == 1
    assert ("'delta.appendOnly' = 'true'" in ddl) == (table.name == "audit_log")
    assert f"CONSTRAINT pk_{table.name} PRIMARY KEY" in ddl
    assert "CHECK" not in ddl and "UNIQUE" not in ddl


def test_foreign_keys_are_declared_informational(warehouse: FakeWarehouse) -> None:
    ddl = create_table(warehouse, "deals")
    assert "CONSTRAINT fk_deals_owner_id FOREIGN KEY(owner_id) REFERENCES users (id)" in ddl


def test_checks_are_added_by_alter_table_each_after_dropping_a_leftover(warehouse: FakeWarehouse) -> None:
    sent = first_run(warehouse)
    for table in [*tables.CORE_TABLES, *tables.WORKFLOW_TABLES]:
        for check in (c for c in table.constraints if isinstance(c, CheckConstraint)):
            name = str(check.name) if str(check.name).startswith("ck_") else f"ck_{table.name}_{check.name}"
            adding = f"ALTER TABLE {table.name} ADD CONSTRAINT {name} CHECK"
            add = [sql for sql in sent if sql.startswith(adding)]
            sqlite_only = name.endswith("_scaled")
            assert len(add) == (0 if sqlite_only else 1), name
            if add:
                drop = f"ALTER TABLE {table.name} DROP CONSTRAINT IF EXISTS {name}"
                assert sent.index(drop) < sent.index(add[0])


def test_no_index_no_trigger_and_nothing_twice(warehouse: FakeWarehouse) -> None:
    sent = warehouse.sql()
    assert not [sql for sql in sent if "INDEX" in sql or "TRIGGER" in sql]
    second = sent[sent.index("-- second run"):]
    assert not [sql for sql in second if sql.startswith(("CREATE TABLE", "\nCREATE TABLE", "ALTER"))]


@pytest.mark.parametrize("table", ALL_TABLES, ids=lambda table: table.name)
def test_the_change_data_feed_is_on_for_every_core_table_and_only_those(
    warehouse: FakeWarehouse, table: tables.Table
) -> None:
    ddl = create_table(warehouse, table.name)
    assert ("'delta.enableChangeDataFeed' = 'true'" in ddl) == (table in tables.CORE_TABLES)


def test_migration_9_turns_the_change_data_feed_on_for_existing_core_tables(warehouse: FakeWarehouse) -> None:
    altered = [sql for sql in first_run(warehouse) if "SET TBLPROPERTIES" in sql]
    assert altered == [f"ALTER TABLE {table.name} SET TBLPROPERTIES ('delta.enableChangeDataFeed' = 'true')"
                       for table in tables.CORE_TABLES]
    assert 9 in warehouse.versions
