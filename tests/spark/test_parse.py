"""Spark SQL's parser accepts every statement the gateway sends to Databricks, as the connector gets it."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine

from gateway.core import tables
from gateway.core.settings import Settings
from gateway.store import engine as engines
from gateway.store.migrate import WORKFLOW_COLUMNS, migrate
from tests.spark.conftest import WAREHOUSE_URL
from tests.support.fake_warehouse import FakeWarehouse, fake_warehouse, sent_sql
from tests.support.statements import capture, reads, writes

pytestmark = [
    pytest.mark.spark,
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning"),
]


def migrate_sql(upgrade: bool = False) -> list[str]:
    """All `deal-desk migrate` sends to an empty warehouse (DDL, catalog probes, version rows), or to one
    migrated to version 2 before audit_log had its `reason` column and deal_approvals its workflow
    columns (`upgrade`)."""
    settings = Settings(database_url=WAREHOUSE_URL, databricks_token="dapi-test-token",  # type: ignore[call-arg]
                        _env_file=None)
    with fake_warehouse() as fake:
        if upgrade:
            fake.created.update(tables.metadata.tables)
            fake.schemas.add("deal_desk_test")
            fake.versions.extend([1, 2])
            fake.missing["audit_log"] = {"reason"}
            fake.missing["deal_approvals"] = set(WORKFLOW_COLUMNS)
        engine = engines.create(WAREHOUSE_URL, settings)
        migrate(engine)
        engine.dispose()
    return [sql for sql in fake.sql() if sql != "SELECT 1"]


def label(sql: str) -> str:
    """A short test id: the statement's first words."""
    return " ".join(sql.split()[:6])


MIGRATE_SQL = migrate_sql()
UPGRADE_SQL = [sql for sql in migrate_sql(upgrade=True) if not sql.startswith(("SHOW", "DESCRIBE", "SELECT"))]
READS = sorted(reads())
WRITES = sorted(writes())


def parse(spark: Any, sql: str) -> None:
    """Spark SQL's own parser on `sql`: the syntax check, with no table needing to exist."""
    spark._jsparkSession.sessionState().sqlParser().parsePlan(sql)


@pytest.mark.parametrize("sql", MIGRATE_SQL, ids=[label(sql) for sql in MIGRATE_SQL])
def test_migrate_statement_parses(spark: Any, sql: str) -> None:
    parse(spark, sql)


@pytest.mark.parametrize("sql", UPGRADE_SQL, ids=[label(sql) for sql in UPGRADE_SQL])
def test_upgrade_statement_parses(spark: Any, sql: str) -> None:
    parse(spark, sql)


def test_the_upgrade_adds_the_audit_reason_as_a_databricks_type() -> None:
    assert "ALTER TABLE audit_log ADD COLUMN reason STRING" in UPGRADE_SQL


def test_the_upgrade_adds_the_workflow_columns_fills_them_and_allows_carried_over() -> None:
    added = [sql for sql in UPGRADE_SQL if sql.startswith("ALTER TABLE deal_approvals ADD COLUMN")]
    assert added == [
        "ALTER TABLE deal_approvals ADD COLUMN step INT",
        "ALTER TABLE deal_approvals ADD COLUMN due_hours DECIMAL(12, 3)",
        "ALTER TABLE deal_approvals ADD COLUMN remind_before_hours DECIMAL(12, 3)",
        "ALTER TABLE deal_approvals ADD COLUMN escalate_to STRING",
        "ALTER TABLE deal_approvals ADD COLUMN terms_digest STRING",
        "ALTER TABLE deal_approvals ADD COLUMN carried_over_from STRING",
    ]
    assert any(sql.startswith("UPDATE deal_approvals SET step") for sql in UPGRADE_SQL)
    assert any("CHECK" in sql and "'CARRIED_OVER'" in sql for sql in UPGRADE_SQL)


@pytest.mark.parametrize("name", READS)
def test_read_parses(spark: Any, warehouse: tuple[Engine, FakeWarehouse], name: str) -> None:
    engine, fake = warehouse
    sent = sent_sql(engine, fake, capture(reads()[name], engine.dialect))
    assert sent
    for sql, _ in sent:
        parse(spark, sql)


@pytest.mark.parametrize("name", WRITES)
def test_write_parses(spark: Any, warehouse: tuple[Engine, FakeWarehouse], name: str) -> None:
    engine, fake = warehouse
    call, rowcount = writes()[name]
    sent = sent_sql(engine, fake, capture(call, engine.dialect, rowcount))
    assert sent
    for sql, _ in sent:
        parse(spark, sql)


def sent_by(write: str, engine: Engine, fake: FakeWarehouse) -> list[str]:
    """The SQL text the connector receives for the write case `write`."""
    call, rowcount = writes()[write]
    return [sql for sql, _ in sent_sql(engine, fake, capture(call, engine.dialect, rowcount))]


def test_the_idempotency_claim_is_one_merge_then_a_read_back(
        spark: Any, warehouse: tuple[Engine, FakeWarehouse]) -> None:
    merge, read_back = sent_by("idempotency.claim", *warehouse)
    assert merge.startswith("MERGE INTO idempotency_keys AS target USING (SELECT :`caller_sub` AS caller_sub")
    assert "WHEN MATCHED AND target.expires_at <= source.created_at THEN UPDATE SET" in merge
    assert "WHEN NOT MATCHED THEN INSERT" in merge and read_back.startswith("SELECT")
    parse(spark, merge)


def test_seeding_sends_multi_row_inserts_of_at_most_255_parameters(
        spark: Any, warehouse: tuple[Engine, FakeWarehouse]) -> None:
    sent = sent_by("seed.insert[audit_log,chunked]", *warehouse)
    per_statement = 255 // len(tables.audit_log.columns)
    assert len(sent) == -(-40 // per_statement)  # 40 rows
    assert sent[0].count(":`id_m") == per_statement
    for sql in sent:
        parse(spark, sql)


def test_a_syntax_error_is_caught(spark: Any) -> None:
    with pytest.raises(Exception, match="PARSE_SYNTAX_ERROR"):
        parse(spark, "SELEC 1")
