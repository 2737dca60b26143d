"""DDL for Databricks: Delta tables kept 7 years, row-level concurrency, CHECK constraints by ALTER TABLE.

databricks-sqlalchemy renders PRIMARY KEY and FOREIGN KEY inline (informational on Databricks) and
leaves out UNIQUE and CHECK, which a Delta CREATE TABLE does not take. CHECKs are enforced by Delta,
so `add_check_constraints` adds them afterwards; UNIQUE has no Databricks equivalent at all.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from sqlalchemy import CheckConstraint, Connection, Table
from sqlalchemy.exc import CompileError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.schema import AddConstraint, CreateTable, DropConstraint
from sqlalchemy.sql.compiler import DDLCompiler
from sqlalchemy.types import String

from gateway.core.tables import CORE_TABLES

RETENTION = "interval 2557 days"  # 7 years of 365.25 days: audit data is kept that long (PRODUCT.md)

DELTA_PROPERTIES: dict[str, str] = {
    "delta.feature.allowColumnDefaults": "enabled",  # what databricks-sqlalchemy sets on its own
    "delta.logRetentionDuration": RETENTION,
    "delta.deletedFileRetentionDuration": RETENTION,
    "delta.enableRowTracking": "true",
    "delta.enableDeletionVectors": "true",
}
"""Table properties of every Delta table the gateway creates."""

APPEND_ONLY = {"delta.appendOnly": "true"}  # Delta refuses UPDATE and DELETE on the table
CHANGE_DATA_FEED = {"delta.enableChangeDataFeed": "true"}  # table_changes() for downstream analytics
OWN_PROPERTIES: dict[str, dict[str, str]] = {
    "audit_log": APPEND_ONLY, "write_operations": APPEND_ONLY,
    **{table.name: CHANGE_DATA_FEED for table in CORE_TABLES},
}
"""Per-table extras by table name. Kept here, not as `databricks_*` table options in gateway.core.tables,
because a dialect option makes SQLAlchemy import the Databricks dialect on every store."""

HANDLED_OMISSIONS = frozenset({
    "This dialect does not support check constraints",  # added by add_check_constraints
    "Databricks does not support unique constraints",  # documented in docs/databricks.md
})


class _HandledOmissions(logging.Filter):
    """Drops the dialect's per-table warnings about constraints this module handles or documents."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() not in HANDLED_OMISSIONS


logging.getLogger("databricks.sqlalchemy._ddl").addFilter(_HandledOmissions())


def table_properties(table: Table) -> dict[str, str]:
    """The Delta properties of `table`: the common ones plus its own."""
    return {**DELTA_PROPERTIES, **OWN_PROPERTIES.get(table.name, {})}


def _delta_clauses(compiler: DDLCompiler, table: Table) -> str:
    literal = compiler.sql_compiler.render_literal_value
    clauses = [" USING DELTA"]
    if table.comment:
        clauses.append("COMMENT " + literal(table.comment, String()))
    properties = table_properties(table).items()
    listed = ", ".join(f"{literal(key, String())} = {literal(value, String())}" for key, value in properties)
    clauses.append(f"TBLPROPERTIES({listed})")
    return "\n".join(clauses)


@compiles(CreateTable, "databricks")
def _create_delta_table(create: CreateTable, compiler: DDLCompiler, **kw: Any) -> str:
    # Spark allows one TBLPROPERTIES clause, so ours replaces the dialect's tail (which it verifies).
    text: str = compiler.visit_create_table(create, **kw)
    stock = compiler.post_create_table(create.element) + "\n\n"
    if not text.endswith(stock):
        raise CompileError("databricks-sqlalchemy changed its CREATE TABLE tail; review gateway.store.delta")
    return text[: -len(stock)] + _delta_clauses(compiler, create.element) + "\n\n"


@compiles(AddConstraint, "databricks")
def _add_constraint(create: AddConstraint, compiler: DDLCompiler, **kw: Any) -> str:
    constraint = create.element
    if not isinstance(constraint, CheckConstraint):
        return compiler.visit_add_constraint(create, **kw)
    # The dialect's own visit_check_constraint renders nothing (right inside CREATE TABLE, not here).
    check = DDLCompiler.visit_check_constraint(compiler, constraint)
    return f"ALTER TABLE {compiler.preparer.format_table(constraint.table)} ADD {check}"


def enable_change_data_feed(connection: Connection, tables: Iterable[Table]) -> None:
    """Turn the change data feed on for existing `tables` (ALTER TABLE ... SET TBLPROPERTIES; idempotent)."""
    preparer = connection.dialect.identifier_preparer
    ((key, value),) = CHANGE_DATA_FEED.items()
    for table in tables:
        connection.exec_driver_sql(
            f"ALTER TABLE {preparer.format_table(table)} SET TBLPROPERTIES ('{key}' = '{value}')")


def check_constraints(table: Table) -> list[CheckConstraint]:
    """The named CHECK constraints of `table`, by name."""
    checks = [c for c in table.constraints if isinstance(c, CheckConstraint)]
    return sorted(checks, key=lambda check: str(check.name))


def add_check_constraints(connection: Connection, tables: Iterable[Table]) -> None:
    """(Re)create every CHECK of `tables`: drop-if-exists then add, so a rerun after a crash is safe."""
    for table in tables:
        for check in check_constraints(table):
            # Called as DDL listeners so each constraint's own ddl_if (e.g. SQLite-only) still applies.
            # isolate_from_table=False: `check` stays in the CREATE TABLE of stores created later (tests).
            DropConstraint(check, if_exists=True)(table, connection)
            AddConstraint(check, isolate_from_table=False)(table, connection)
