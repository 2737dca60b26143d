"""Hours to decision of each decided approval, as `approvalMetrics` ranks them.

`decided_hours(...)` is the SQL expression the metrics statement orders and filters by: the hours from
activation to decision of an APPROVED, REJECTED or CHANGES_REQUESTED approval, NULL for any other.
PostgreSQL and Databricks compute it in the statement. SQLite keeps it in a column of its own,
`deal_approvals.decided_hours`, that the store itself fills (triggers on every insert and on every
change of status, activation or decision, so the gateway, the seed and plain SQL all keep it right),
with an index in (stage, hours) order: the metrics read then computes no `julianday()` per row and
finds the rows of an hours range at once (docs/performance.md). The column is SQLite's only; it is not
part of `tables.metadata`, so no other read or write sees it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Float, case, inspect, literal_column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from gateway.core.tables import deal_approvals
from gateway.store.sqlfunc import hours_between

DECIDED = ("APPROVED", "REJECTED", "CHANGES_REQUESTED")
COLUMN = "decided_hours"
INDEX = "ix_deal_approvals_decided_hours"  # (stage, hours): a range of hours found at once
UNTIMED_INDEX = "ix_deal_approvals_status_decided_hours"  # finds decided rows without hours at once


# Lower-case class name: it reads like the SQL it stands for (as in sqlfunc).
class decided_hours(FunctionElement[float]):
    """Hours from activation to decision of a decided approval of `deal_approvals`; NULL otherwise."""

    type = Float()
    name = "decided_hours"
    inherit_cache = True


@compiles(decided_hours)
def _decided_hours(element: decided_hours, compiler: SQLCompiler, **kw: Any) -> str:
    a = deal_approvals.c
    hours = case((a.status.in_(DECIDED), hours_between(a.activated_at, a.decided_at)))
    return compiler.process(hours, **kw)


@compiles(decided_hours, "sqlite")
def _decided_hours_sqlite(element: decided_hours, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(literal_column(f"{deal_approvals.name}.{COLUMN}", Float()), **kw)


# The same value as the expression above compiles to on SQLite (sqlfunc.hours_between), of row `row`.
_LISTED = ", ".join(f"'{status}'" for status in DECIDED)


def _value(row: str) -> str:
    return (f"CASE WHEN {row}status IN ({_LISTED}) "
            f"THEN ((julianday({row}decided_at) - julianday({row}activated_at)) * 24.0) END")


SQLITE_DDL = (
    f"CREATE TRIGGER IF NOT EXISTS deal_approvals_decided_hours_insert AFTER INSERT ON deal_approvals "
    f"WHEN NEW.status IN ({_LISTED}) "
    f"BEGIN UPDATE deal_approvals SET {COLUMN} = {_value('NEW.')} WHERE rowid = NEW.rowid; END",
    f"CREATE TRIGGER IF NOT EXISTS deal_approvals_decided_hours_update "
    f"AFTER UPDATE OF status, activated_at, decided_at ON deal_approvals "
    f"BEGIN UPDATE deal_approvals SET {COLUMN} = {_value('NEW.')} WHERE rowid = NEW.rowid; END",
    f"CREATE INDEX IF NOT EXISTS {INDEX} ON deal_approvals (stage, {COLUMN}, decided_at, deal_id)",
    f"CREATE INDEX IF NOT EXISTS {UNTIMED_INDEX} ON deal_approvals (status, {COLUMN})",
)


def add_to_sqlite(connection: Connection) -> None:
    """Migration step: the column (filled for the rows there are), its triggers and its index; SQLite only."""
    if connection.dialect.name != "sqlite":
        return
    if COLUMN not in {column["name"] for column in inspect(connection).get_columns("deal_approvals")}:
        connection.exec_driver_sql(f"ALTER TABLE deal_approvals ADD COLUMN {COLUMN} REAL")
    connection.exec_driver_sql(f"UPDATE deal_approvals SET {COLUMN} = {_value('')}")
    for statement in SQLITE_DDL:
        connection.exec_driver_sql(statement)
