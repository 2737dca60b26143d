"""`deal-desk audit verify`: is every deal's current state explained by its history and audit records?

A deal is explained when it has an INSERT audit record, its latest audit record's `after_json`
equals the row as it is now (column by column, as values), its latest status-history row ends in
its status, and every approval and status-history row of it has an INSERT audit record. A change
made behind the gateway's back (plain SQL) breaks one of these.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.table import Table as RichTable
from sqlalchemy import Column, Connection, Engine, Subquery, Table, and_, exists, func, select

from gateway.core.tables import audit_log, deal_approvals, deal_status_history, deals, write_operations
from gateway.store import journal
from gateway.store.audit import to_json
from gateway.store.images import comparable

CHILDREN = (deal_approvals, deal_status_history)
BATCH = 2000


@dataclass
class Report:
    """What was checked, and why each unexplained deal is unexplained (deal id -> reasons)."""

    deals: int = 0
    children: dict[str, int] = field(default_factory=dict)
    problems: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    numbers: dict[str, str] = field(default_factory=dict)
    unfinished: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every deal is explained and no journaled write was left unfinished."""
        return not self.problems and not self.unfinished

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
        report.unfinished = unfinished_operations(connection)
    return report


def unfinished_operations(connection: Connection) -> list[str]:
    """Journaled write operations that started and have not ended (gateway/store/journal.py)."""
    w = write_operations
    stmt = select(w.c.operation_id).where(w.c.state == "PENDING", ~journal.ended(w.c.operation_id))
    return list(connection.execute(stmt.order_by(w.c.recorded_at)).scalars())


def latest_audit(table: Table) -> Subquery:
    """The latest audit record of each row of `table` (rank 1 by occurred_at, then id)."""
    rank = func.row_number().over(partition_by=audit_log.c.row_id,
                                  order_by=(audit_log.c.occurred_at.desc(), audit_log.c.id.desc()))
    return (select(audit_log.c.row_id, audit_log.c.operation, audit_log.c.after_json, rank.label("rank"))
            .where(audit_log.c.table_name == table.name, journal.committed(audit_log.c.operation_id))
            .subquery())


def audited_insert(table: Table, row_id: Column[Any]) -> Any:
    """EXISTS an INSERT audit record of the row `row_id` of `table`."""
    return exists().where(audit_log.c.table_name == table.name, audit_log.c.row_id == row_id,
                          audit_log.c.operation == "INSERT", journal.committed(audit_log.c.operation_id))


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


def print_report(report: Report, console: Console | None = None, *, limit: int = 50) -> None:
    """The summary, and the first `limit` unexplained deals with their reasons."""
    console = console or Console()
    summary = RichTable("checked", "rows", title="Audit verification")
    summary.add_row("deals", str(report.deals))
    for name, rows in report.children.items():
        summary.add_row(name, str(rows))
    summary.add_row("unexplained deals", str(len(report.problems)),
                    style="bold red" if report.problems else "green")
    summary.add_row("unfinished write operations", str(len(report.unfinished)),
                    style="bold red" if report.unfinished else "green")
    console.print(summary)
    if report.unfinished:
        console.print("[red]Some journaled writes did not finish; `deal-desk audit verify --repair` "
                      "completes or aborts them.[/red]")
    if not report.problems:
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
