"""`deal-desk audit verify --repair`: finish or abort the journaled operations a crash cut short.

A journaled operation (gateway/store/journal.py) wrote PENDING and its audit rows before its first
change, and its anchor before every other change. So when it has no end marker:
- its anchor was applied: every change is in the audit rows; the ones still missing are applied
  (each idempotently: an INSERT only when the row is absent), and the operation is COMMITTED;
- its anchor was not applied: nothing of it was, and it is ABORTED (its audit rows stop counting).
The anchor was applied when the row holds the anchor's after-image in the columns it changed, or a
later operation read the row in that state (its before-image). A deal's anchor sets
`last_operation_id` to the operation's id, which nothing else does.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, Row, Table, select

from gateway.core.tables import audit_log, metadata, write_operations
from gateway.store import governance, journal
from gateway.store.audit import to_json
from gateway.store.images import comparable, decoded

GRACE = dt.timedelta(minutes=5)
"""Operations younger than this may still be running: they are left alone."""


@dataclass
class Outcome:
    """The operations repair completed and the ones it aborted."""

    completed: list[str] = field(default_factory=list)
    aborted: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for the operator."""
        if not self.completed and not self.aborted:
            return "Nothing to repair: no write operation was left unfinished."
        return (f"Repaired {len(self.completed) + len(self.aborted)} unfinished write operation(s): "
                f"{len(self.completed)} completed, {len(self.aborted)} aborted.")


def repair(engine: Engine, *, older_than: dt.timedelta = GRACE) -> Outcome:
    """Complete or abort every operation left PENDING for longer than `older_than`."""
    outcome = Outcome()
    with engine.connect() as connection:
        journal.begin(connection)  # statement by statement, as the journal itself wrote
        for operation_id, anchor_id in stale(connection, older_than):
            done = settle(connection, operation_id, anchor_id)
            (outcome.completed if done else outcome.aborted).append(operation_id)
        governance.sync_user_access(connection)  # Databricks: user_access as the users rows now stand
    return outcome


def stale(connection: Connection, older_than: dt.timedelta) -> list[tuple[str, str | None]]:
    """(operation id, anchor audit id) of each operation PENDING since before now - `older_than`."""
    w = write_operations
    cutoff = dt.datetime.now(dt.UTC) - older_than
    stmt = (select(w.c.operation_id, w.c.anchor_audit_id)
            .where(w.c.state == "PENDING", w.c.recorded_at < cutoff, ~journal.ended(w.c.operation_id))
            .order_by(w.c.recorded_at))
    return [(row.operation_id, row.anchor_audit_id) for row in connection.execute(stmt)]


def settle(connection: Connection, operation_id: str, anchor_id: str | None) -> bool:
    """Complete the operation (True) or abort it (False)."""
    rows = connection.execute(select(audit_log).where(audit_log.c.operation_id == operation_id)
                              .order_by(audit_log.c.id)).all()
    anchor = next((row for row in rows if row.id == anchor_id), None)
    if anchor is None or not applied(connection, anchor):
        journal.mark(connection, operation_id, "ABORTED")
        return False
    for row in rows:
        if row.id != anchor.id:
            reapply(connection, row)
    journal.mark(connection, operation_id, "COMMITTED")
    return True


def applied(connection: Connection, anchor: Row[Any]) -> bool:
    """True when the anchor's change reached the store."""
    table = metadata.tables[anchor.table_name]
    current = connection.execute(select(table).where(table.c.id == anchor.row_id)).first()
    if anchor.operation == "DELETE":
        return current is None
    if anchor.operation == "INSERT":
        return current is not None or any(True for _ in later_images(connection, anchor))
    changed = changed_columns(anchor)
    seen = [json.loads(to_json(current._mapping) or "{}")] if current is not None else []
    return any(holds(table, image, changed) for image in [*seen, *later_images(connection, anchor)])


def later_images(connection: Connection, anchor: Row[Any]) -> Iterator[dict[str, Any]]:
    """The row as other operations read it before changing it."""
    stmt = select(audit_log.c.before_json).where(
        audit_log.c.table_name == anchor.table_name, audit_log.c.row_id == anchor.row_id,
        audit_log.c.operation_id != anchor.operation_id, audit_log.c.before_json.is_not(None))
    for row in connection.execute(stmt):
        yield json.loads(row.before_json)


def changed_columns(row: Row[Any]) -> dict[str, Any]:
    """The columns an audited UPDATE changed, with their new (JSON) values."""
    before, after = json.loads(row.before_json), json.loads(row.after_json)
    return {name: value for name, value in after.items() if before.get(name) != value}


def holds(table: Table, image: Mapping[str, Any], values: Mapping[str, Any]) -> bool:
    """True when the JSON image has `values` in those columns, compared as the columns mean them."""
    return all(comparable(table.c[name], image.get(name)) == comparable(table.c[name], value)
               for name, value in values.items())


def reapply(connection: Connection, row: Row[Any]) -> None:
    """Make one audited change again, harmlessly when it is already there."""
    table = metadata.tables[row.table_name]
    if row.operation == "INSERT":
        exists = connection.execute(select(table.c.id).where(table.c.id == row.row_id)).first()
        if exists is None:
            connection.execute(table.insert().values(**decoded(table, json.loads(row.after_json))))
    elif row.operation == "UPDATE":
        values = decoded(table, changed_columns(row))
        connection.execute(table.update().where(table.c.id == row.row_id).values(**values))
    else:
        connection.execute(table.delete().where(table.c.id == row.row_id))
