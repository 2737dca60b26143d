"""Versioned, idempotent schema migrations, safe to run on every start."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, Table, inspect, select

from gateway.core import tables
from gateway.store import decided_hours, delta


@dataclass(frozen=True)
class Migration:
    """One schema step; `apply` must itself be idempotent (checkfirst)."""

    version: int
    description: str
    apply: Callable[[Connection], None]


def _create_tables(connection: Connection, selected: Sequence[Table]) -> None:
    tables.metadata.create_all(connection, tables=list(selected), checkfirst=True)
    if connection.dialect.name == "databricks":  # Delta takes CHECK constraints only by ALTER TABLE
        delta.add_check_constraints(connection, selected)


def _core_tables(connection: Connection) -> None:
    _create_tables(connection, tables.CORE_TABLES)


APPEND_ONLY = {
    "sqlite": [
        "CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    ],
    "postgresql": [
        "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$",
        "DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log",
        "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
        "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
    ],
}


def _workflow_tables(connection: Connection) -> None:
    _create_tables(connection, tables.WORKFLOW_TABLES)
    # Databricks has no triggers: audit_log is a Delta appendOnly table there (docs/databricks.md).
    for statement in APPEND_ONLY.get(connection.dialect.name, []):
        connection.exec_driver_sql(statement)


def _audit_reason(connection: Connection) -> None:
    # Stores migrated before this column existed get it; fresh ones already have it from step 2.
    if "reason" not in {column["name"] for column in inspect(connection).get_columns("audit_log")}:
        kind = tables.audit_log.c.reason.type.compile(dialect=connection.dialect)
        connection.exec_driver_sql(f"ALTER TABLE audit_log ADD COLUMN reason {kind}")


def _write_journal(connection: Connection) -> None:
    # Stores created before this step get the deals column; fresh ones have it from step 1.
    if "last_operation_id" not in {column["name"] for column in inspect(connection).get_columns("deals")}:
        kind = tables.deals.c.last_operation_id.type.compile(dialect=connection.dialect)
        connection.exec_driver_sql(f"ALTER TABLE deals ADD COLUMN last_operation_id {kind}")
    _create_tables(connection, [tables.write_operations])


def _persisted_queries(connection: Connection) -> None:
    _create_tables(connection, [tables.persisted_queries])


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "core tables of the Deal Desk", _core_tables),
    Migration(2, "audit log (append-only), idempotency keys, deal-number counters", _workflow_tables),
    Migration(3, "audit log: the reason a change gives", _audit_reason),
    Migration(4, "journaled writes: write_operations, deals.last_operation_id", _write_journal),
    Migration(5, "approval metrics: SQLite's stored decided_hours, its triggers and index",
              decided_hours.add_to_sqlite),
    Migration(6, "automatic persisted queries", _persisted_queries),
)


def current_version(connection: Connection) -> int:
    """The highest applied migration, 0 on an empty store."""
    versions = connection.execute(select(tables.schema_version.c.version)).scalars().all()
    return max(versions, default=0)


def migrate(engine: Engine) -> list[Migration]:
    """Apply every migration not yet recorded; return the ones applied."""
    if engine.dialect.name == "databricks":
        from gateway.store import databricks

        databricks.ensure_schema(engine)
    with engine.begin() as connection:
        tables.schema_version.create(connection, checkfirst=True)
    applied = []
    for migration in MIGRATIONS:
        with engine.begin() as connection:
            if migration.version <= current_version(connection):
                continue
            migration.apply(connection)
            connection.execute(
                tables.schema_version.insert().values(
                    version=migration.version,
                    description=migration.description,
                    applied_at=dt.datetime.now(dt.UTC),
                )
            )
        applied.append(migration)
    return applied
