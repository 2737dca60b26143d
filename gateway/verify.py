"""`deal-desk audit verify`: is every deal's current state explained by its history and audit records?

A deal is explained when it has an INSERT audit record, its latest audit record's `after_json`
equals the row as it is now (column by column, as values), its latest status-history row ends in
its status, and every approval and status-history row of it has an INSERT audit record. A change
made behind the gateway's back (plain SQL) breaks one of these.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from rich.console import Console
from rich.table import Table as RichTable
from sqlalchemy import Column, Connection, Engine, Subquery, Table, and_, exists, func, select

from gateway.audit import to_json
from gateway.store.tables import audit_log, deal_approvals, deal_status_history, deals
from gateway.store.types import ExactDecimal, UtcDateTime

CHILDREN = (deal_approvals, deal_status_history)
BATCH = 2000


@dataclass
class Report:
    """What was checked, and why each unexplained deal is unexplained (deal id -> reasons)."""

    deals: int = 0
    children: dict[str, int] = field(default_factory=dict)
    problems: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    numbers: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when every deal is explained."""
        return not self.problems

    def flag(self, deal_id: str, reason: str, number: str | None = None) -> None:
        """Record why `deal_id` is unexplained."""
        self.problems[deal_id].append(reason)
        if number:
            self.numbers[deal_id] = number


def verify(engine: Engine) -> Report:
    """Check every deal of the store; read-only."""
    report = Report()
    with engine.connect() as connection:
        check_rows(connection, report)
        check_status(connection, report)
        for table in (deals, *CHILDREN):
            check_deleted(connection, table, report)
        for table in CHILDREN:
            check_children(connection, table, report)
        name_deals(connection, report)
    return report


def latest_audit(table: Table) -> Subquery:
    """The latest audit record of each row of `table` (rank 1 by occurred_at, then id)."""
    rank = func.row_number().over(partition_by=audit_log.c.row_id,
                                  order_by=(audit_log.c.occurred_at.desc(), audit_log.c.id.desc()))
    return (select(audit_log.c.row_id, audit_log.c.operation, audit_log.c.after_json, rank.label("rank"))
            .where(audit_log.c.table_name == table.name).subquery())


def audited_insert(table: Table, row_id: Column[Any]) -> Any:
    """EXISTS an INSERT audit record of the row `row_id` of `table`."""
    return exists().where(audit_log.c.table_name == table.name, audit_log.c.row_id == row_id,
                          audit_log.c.operation == "INSERT")


def check_rows(connection: Connection, report: Report) -> None:
    """Each deal has an INSERT record, and its latest record's after-image is the row as it is."""
    latest = latest_audit(deals)
    stmt = (select(deals, latest.c.operation.label("_operation"), latest.c.after_json.label("_after"),
                   audited_insert(deals, deals.c.id).label("_inserted"))
            .outerjoin(latest, and_(latest.c.row_id == deals.c.id, latest.c.rank == 1)))
    for row in streamed(connection, stmt):
        report.deals += 1
        for reason in row_problems(row._mapping):
            report.flag(row.id, reason, row.deal_number)


def row_problems(row: Mapping[str, Any]) -> Iterator[str]:
    """Why one deal row (with its latest audit record) is unexplained."""
    if not row["_inserted"]:
        yield "no INSERT audit record"
    if row["_operation"] is None:
        yield "no audit record at all"
    elif row["_operation"] == "DELETE":
        yield "exists although its latest audit record deletes it"
    else:
        changed = differences(row, json.loads(row["_after"]))
        if changed:
            yield f"differs from its latest audit record in {', '.join(changed)}"


def differences(row: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """Columns whose current value is not the audited one (a column missing from the record is NULL)."""
    current = json.loads(to_json({column.name: row[column.name] for column in deals.columns}) or "{}")
    return [column.name for column in deals.columns
            if comparable(column, current[column.name]) != comparable(column, after.get(column.name))]


def comparable(column: Column[Any], value: Any) -> Any:
    """A JSON value as its column means it: exact decimals and instants compare by value, not spelling."""
    try:
        if value is not None and isinstance(column.type, ExactDecimal):
            return Decimal(str(value))
        if value is not None and isinstance(column.type, UtcDateTime):
            return dt.datetime.fromisoformat(value)
    except (InvalidOperation, ValueError, TypeError):
        return ("unreadable", value)
    return value


def check_deleted(connection: Connection, table: Table, report: Report) -> None:
    """Rows of `table` (deals or their children) the audit trail says exist, but which are gone."""
    latest = latest_audit(table)
    stmt = (select(latest.c.row_id, latest.c.after_json)
            .where(latest.c.rank == 1, latest.c.operation != "DELETE")
            .where(~exists().where(table.c.id == latest.c.row_id)))
    gone = Counter(row.row_id if table is deals else json.loads(row.after_json)["deal_id"]
                   for row in streamed(connection, stmt))
    for deal_id, missing in gone.items():
        report.flag(deal_id, f"{missing} {table.name} row(s) deleted without an audit record")


def check_status(connection: Connection, report: Report) -> None:
    """Each deal's latest status-history row ends in the deal's status."""
    h = deal_status_history.c
    rank = func.row_number().over(partition_by=h.deal_id, order_by=(h.changed_at.desc(), h.id.desc()))
    last = select(h.deal_id, h.to_status, rank.label("rank")).subquery()
    stmt = (select(deals.c.id, deals.c.deal_number, deals.c.status, last.c.to_status)
            .outerjoin(last, and_(last.c.deal_id == deals.c.id, last.c.rank == 1))
            .where(last.c.to_status.is_(None) | (last.c.to_status != deals.c.status)))
    for row in streamed(connection, stmt):
        reason = (f"status {row.status} but its history ends in {row.to_status}" if row.to_status
                  else f"status {row.status} but no status history")
        report.flag(row.id, reason, row.deal_number)


def check_children(connection: Connection, table: Table, report: Report) -> None:
    """Every row of `table` has an INSERT audit record; the unaudited ones are counted per deal."""
    report.children[table.name] = connection.execute(select(func.count()).select_from(table)).scalar_one()
    stmt = (select(table.c.deal_id, func.count().label("missing"))
            .where(~audited_insert(table, table.c.id)).group_by(table.c.deal_id))
    for row in streamed(connection, stmt):
        report.flag(row.deal_id, f"{row.missing} {table.name} row(s) without an INSERT audit record")


def name_deals(connection: Connection, report: Report) -> None:
    """Fill in the deal numbers of flagged deals that were flagged by id only."""
    unnamed = [deal_id for deal_id in report.problems if deal_id not in report.numbers]
    for start in range(0, len(unnamed), BATCH):
        ids = unnamed[start:start + BATCH]
        for row in connection.execute(select(deals.c.id, deals.c.deal_number).where(deals.c.id.in_(ids))):
            report.numbers[row.id] = row.deal_number


def streamed(connection: Connection, stmt: Any) -> Iterator[Any]:
    """The rows of `stmt`, fetched in batches (the store may hold 7 years of deals)."""
    yield from connection.execute(stmt.execution_options(yield_per=BATCH))


def repair(engine: Engine) -> str:
    """What --repair does on this store: nothing where every change commits with its audit record."""
    if engine.dialect.name in ("sqlite", "postgresql"):
        return (f"Nothing to repair on {engine.dialect.name}: every change commits in one transaction with "
                "its audit record, so a crash cannot separate them. What verify reports was changed "
                "outside the gateway and needs a person to look at it.")
    return f"--repair is not implemented for {engine.dialect.name} yet; verifying only."


def print_report(report: Report, console: Console | None = None, *, limit: int = 50) -> None:
    """The summary, and the first `limit` unexplained deals with their reasons."""
    console = console or Console()
    summary = RichTable("checked", "rows", title="Audit verification")
    summary.add_row("deals", str(report.deals))
    for name, rows in report.children.items():
        summary.add_row(name, str(rows))
    summary.add_row("unexplained deals", str(len(report.problems)),
                    style="bold red" if report.problems else "green")
    console.print(summary)
    if report.ok:
        console.print("[green]Every deal is explained by its history and audit records.[/green]")
        return
    print_problems(report, console, limit)


def print_problems(report: Report, console: Console, limit: int) -> None:
    """The unexplained deals, `limit` at most."""
    offenders = RichTable(title="Unexplained deals")
    offenders.add_column("deal id", no_wrap=True)
    offenders.add_column("deal number", no_wrap=True)
    offenders.add_column("why")
    for deal_id, reasons in sorted(report.problems.items())[:limit]:
        offenders.add_row(deal_id, report.numbers.get(deal_id, "-"), "; ".join(reasons))
    console.print(offenders)
    if len(report.problems) > limit:
        console.print(f"... and {len(report.problems) - limit} more")
