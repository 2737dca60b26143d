"""Versioned, idempotent schema migrations, safe to run on every start."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import CheckConstraint, Connection, Engine, Table, inspect, select, update
from sqlalchemy.schema import AddConstraint, DropConstraint

from gateway.core import tables
from gateway.store import decided_hours, delta, governance, pricing


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


WORKFLOW_COLUMNS = ("step", "due_hours", "remind_before_hours", "escalate_to", "terms_digest",
                    "carried_over_from")


def _add_columns(connection: Connection, table: Table, names: Sequence[str]) -> list[str]:
    """ALTER TABLE ADD COLUMN for each of `names` the stored table lacks (nullable: rows exist); the added."""
    present = {column["name"] for column in inspect(connection).get_columns(table.name)}
    added = [name for name in names if name not in present]
    for name in added:
        kind = table.c[name].type.compile(dialect=connection.dialect)
        connection.exec_driver_sql(f"ALTER TABLE {table.name} ADD COLUMN {name} {kind}")
    return added


def _parallel_steps(connection: Connection) -> None:
    # Stores from before this step: every stage had its own step (its sequence) and 48 h to decide.
    a = tables.deal_approvals
    if _add_columns(connection, a, WORKFLOW_COLUMNS):
        # Only such a store has the old CHECK: one created with these columns got today's from step 1.
        _allow_action(connection, "CARRIED_OVER")
    connection.execute(update(a).where(a.c.step.is_(None)).values(step=a.c.sequence))
    connection.execute(update(a).where(a.c.due_hours.is_(None))
                       .values(due_hours=48, remind_before_hours=12, escalate_to="DEAL_DESK"))


def _allow_action(connection: Connection, action: str) -> None:
    """Re-create the CHECK on approval_actions.action so that it allows `action` (tables.ACTION_TYPES)."""
    table = tables.approval_actions
    dialect = connection.dialect.name
    if dialect == "databricks":
        delta.add_check_constraints(connection, [table])
    elif dialect == "sqlite":  # SQLite cannot alter a CHECK: the table is rebuilt, its rows copied
        created = connection.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table.name,)).scalar()
        if action not in str(created):
            _rebuild_sqlite(connection, table)
    else:
        [check] = [c for c in table.constraints
                   if isinstance(c, CheckConstraint) and str(c.name).endswith("_action")]
        DropConstraint(check, if_exists=True)(table, connection)
        AddConstraint(check, isolate_from_table=False)(table, connection)


def _rebuild_sqlite(connection: Connection, table: Table) -> None:
    old = f"{table.name}_before_rebuild"
    connection.exec_driver_sql(f"ALTER TABLE {table.name} RENAME TO {old}")
    for index in inspect(connection).get_indexes(old):
        connection.exec_driver_sql(f"DROP INDEX {index['name']}")
    table.create(connection)
    columns = ", ".join(column.name for column in table.columns)
    connection.exec_driver_sql(f"INSERT INTO {table.name} ({columns}) SELECT {columns} FROM {old}")
    connection.exec_driver_sql(f"DROP TABLE {old}")


def _persisted_queries(connection: Connection) -> None:
    _create_tables(connection, [tables.persisted_queries])


def _claimed_operations(connection: Connection) -> None:
    _add_columns(connection, tables.write_operations, ("claim", "claim_step", "result_json"))


def _lakehouse(connection: Connection) -> None:
    # Databricks only: the change data feed on the core tables created before it was in their DDL, and
    # user_access for the governed views (docs/databricks.md, "Governed views for analysts").
    if connection.dialect.name == "databricks":
        delta.enable_change_data_feed(connection, tables.CORE_TABLES)
        governance.sync_user_access(connection)


def _pricing_segments(connection: Connection) -> None:
    _create_tables(connection, [tables.pricing_segments])
    if connection.dialect.name != "databricks":  # Delta has no secondary indexes
        nearest = next(index for index in tables.deals.indexes
                       if [column.name for column in index.columns] == ["status", "deal_type", "total_value"])
        nearest.create(connection, checkfirst=True)
    p = tables.pricing_segments.c
    clock = select(p.level).where(p.level == pricing.CLOCK_LEVEL, p.segment_key == pricing.CLOCK_KEY)
    if connection.execute(clock).first() is None:
        connection.execute(tables.pricing_segments.insert().values(**pricing.clock_row()))


def _notifications(connection: Connection) -> None:
    # The outbox, and what reminders, escalation and Slack decisions record on existing tables.
    _create_tables(connection, [tables.notifications])
    _add_columns(connection, tables.users, ["last_seen_at"])
    _add_columns(connection, tables.deal_approvals, ["reminded_at", "escalated_at"])
    if _add_columns(connection, tables.approval_actions, ["via"]):
        _allow_action(connection, "ESCALATED")  # a fresh store's CHECK already allows it (step 1)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "core tables of the Deal Desk", _core_tables),
    Migration(2, "audit log (append-only), idempotency keys, deal-number counters", _workflow_tables),
    Migration(3, "audit log: the reason a change gives", _audit_reason),
    Migration(4, "journaled writes: write_operations, deals.last_operation_id", _write_journal),
    Migration(5, "approval metrics: SQLite's stored decided_hours, its triggers and index",
              decided_hours.add_to_sqlite),
    Migration(6, "approval workflow: parallel steps, service levels per stage, smart re-approval",
              _parallel_steps),
    Migration(7, "automatic persisted queries", _persisted_queries),
    Migration(8, "notifications: the outbox, reminders and escalation, decisions from Slack", _notifications),
    Migration(9, "lakehouse: change data feed on the core tables, user_access (Databricks)", _lakehouse),
    Migration(10, "pricing guidance: pricing_segments, rewritten by the refresh", _pricing_segments),
    Migration(11, "journaled writes name the idempotency claim they ran under, and what they returned",
              _claimed_operations),
)


def applied_versions(connection: Connection) -> set[int]:
    """The migrations recorded in the store."""
    return set(connection.execute(select(tables.schema_version.c.version)).scalars().all())


def current_version(connection: Connection) -> int:
    """The highest applied migration, 0 on an empty store."""
    return max(applied_versions(connection), default=0)


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
            # Each one by its own record, not by the highest: a store that has a later migration
            # (from a branch that landed first) still gets an earlier one that landed after it.
            if migration.version in applied_versions(connection):
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
