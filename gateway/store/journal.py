"""Writes on stores without multi-statement transactions (Databricks): journal first, then apply.

A mutation reads and checks as usual, but its Writer only records the changes. When it returns,
`flush` applies them in an order that a crash at any statement cannot make lose or hide a change:

1. a PENDING row in `write_operations`, naming the operation's anchor, then every audit row of the
   operation (the before and after images of each change);
2. the anchor: the one guarded UPDATE that serialises the operation against others. An operation on a
   deal compare-and-sets the deal's `last_operation_id` (and `version`, if it changes it); any other
   takes its first guarded update, else its first change. When the guard matches no row, the
   operation is ABORTED (CONFLICT) and nothing else is changed;
3. the other changes, consecutive inserts into one table as one multi-row INSERT; on Databricks, when
   the operation changed users rows, a MERGE of those users into `user_access` (gateway/store/governance.py);
4. a COMMITTED row.

An operation with PENDING and nothing after it was cut short: `deal-desk audit verify --repair`
(gateway/ops/repair.py) completes it when its anchor was applied, and aborts it when not. Until then a
deal whose last operation is unfinished refuses further changes (CONFLICT), so no operation builds on
a half-applied one.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, Table, exists, or_, select

from gateway.core import ids
from gateway.core.errors import Conflict, ServiceUnavailable
from gateway.core.tables import audit_log, deals, users, write_operations
from gateway.store import audit, governance
from gateway.store import changes as statements
from gateway.store import engine as engines
from gateway.store.audit import Actor
from gateway.store.changes import Change

OPTION = engines.JOURNAL_OPTION
"""Execution option of a connection whose writes are journaled; its value is the Journal."""

STALE = "The record was changed by someone else; reload it and retry."
UNFINISHED = "An earlier change to this deal is still being saved; retry in a moment."
UNSAVED = "The change was accepted but not completely saved; it will be completed shortly."


class Image:
    """A row as this operation leaves it, read like a Row: attributes and `_mapping`."""

    def __init__(self, values: dict[str, Any]) -> None:
        self._mapping = values

    def __getattr__(self, name: str) -> Any:
        try:
            return self._mapping[name]
        except KeyError:
            raise AttributeError(name) from None


@dataclass
class Journal:
    """The changes of one operation, in the order it made them, and the deal it serialises on."""

    changes: list[Change] = field(default_factory=list)
    actor: Actor | None = None
    locked: Row[Any] | None = None
    claimed: dict[str, Any] = field(default_factory=dict)  # the PENDING row's claim columns (store/claims.py)

    def record(self, actor: Actor, change: Change) -> bool:
        """Keep `change` for the flush; a deal UPDATE also claims the deal for this operation."""
        self.actor = self.actor or actor
        if change.table is deals and change.operation == "UPDATE":
            change.values["last_operation_id"] = self.actor.operation_id
        self.changes.append(change)
        return True

    def touched(self, table: Table, row_id: str) -> bool:
        """True when this operation changed the row."""
        return any(c.table is table and c.row_id == row_id for c in self.changes)

    def image(self, table: Table, row_id: str) -> Any:
        """The row as this operation leaves it (None when deleted)."""
        last = [c for c in self.changes if c.table is table and c.row_id == row_id][-1]
        after = last.after
        return None if after is None else Image(after)

    def lock(self, connection: Connection, deal: Row[Any], field: str) -> None:
        """Serialise this operation on `deal`; CONFLICT while the deal's last operation is unfinished."""
        if deal.last_operation_id is not None and unfinished(connection, deal.last_operation_id):
            raise Conflict(UNFINISHED, field=field)
        self.locked = deal

    def ordered(self) -> list[Change]:
        """The anchor, guarded, then every other change unguarded, in the order they were made."""
        anchor = self._deal_anchor() if self.locked is not None else None
        if anchor is None:
            anchor = next((c for c in self.changes if c.guard), self.changes[0])
        return [anchor, *(c.unguarded() for c in self.changes if c is not anchor)]

    def _deal_anchor(self) -> Change:
        assert self.locked is not None and self.actor is not None
        seen = {"last_operation_id": self.locked.last_operation_id}
        for change in self.changes:
            if change.table is deals and change.row_id == self.locked.id and change.operation == "UPDATE":
                change.guard = {**change.guard, **seen}
                return change
        # The operation changes only the deal's children: it still claims the deal.
        return Change.update(deals, self.locked, {"last_operation_id": self.actor.operation_id}, guard=seen)


def of(connection: Connection) -> Journal | None:
    """The journal of `connection`, when its writes are journaled."""
    journal: Journal | None = connection.get_execution_options().get(OPTION)
    return journal


def begin(connection: Connection) -> Journal:
    """Journal the writes made on `connection` from now on."""
    journal = Journal()
    connection.execution_options(**{OPTION: journal})
    return journal


def flush(connection: Connection, journal: Journal) -> None:
    """Apply the journaled changes: marker and audit rows, anchor, the rest, marker."""
    if not journal.changes:
        return
    assert journal.actor is not None
    operation_id, ordered = journal.actor.operation_id, journal.ordered()
    audit_ids = ids.sequence(len(ordered))
    mark(connection, operation_id, "PENDING", anchor_audit_id=audit_ids[0], **journal.claimed)
    pairs = zip(ordered, audit_ids, strict=True)
    statements.insert_rows(connection, audit_log, [audit_row(journal.actor, c, i) for c, i in pairs])
    if not anchor(connection, ordered[0]):
        mark(connection, operation_id, "ABORTED")
        raise Conflict(STALE)
    try:
        apply_all(connection, ordered[1:])
        refreshed = sorted({change.row_id for change in ordered if change.table is users})
        if refreshed and connection.dialect.name == "databricks":  # the governed views' user_access
            statements.execute(connection, governance.user_access_merge(refreshed))
    except Conflict as error:  # the rest keeps losing Delta commit races: repair completes it later
        raise ServiceUnavailable(UNSAVED) from error
    mark(connection, operation_id, "COMMITTED")


def anchor(connection: Connection, change: Change) -> bool:
    """Apply the anchor; False when its guard failed or its commit kept losing races (nothing applied)."""
    try:
        return statements.apply(connection, change)
    except Conflict:
        return False


def apply_all(connection: Connection, changes: Sequence[Change]) -> None:
    """Make `changes` in order; runs of inserts into one table go in multi-row INSERTs."""
    for (table, operation), run in itertools.groupby(changes, key=lambda c: (c.table, c.operation)):
        if operation == "INSERT":
            for batch in same_columns(list(run)):
                statements.insert_rows(connection, table, [change.values for change in batch])
        else:
            for change in run:
                statements.apply(connection, change)


def same_columns(run: Sequence[Change]) -> Iterator[list[Change]]:
    """`run` split where the inserted columns differ (one multi-row INSERT names one column list)."""
    for _columns, batch in itertools.groupby(run, key=lambda c: tuple(sorted(c.values))):
        yield list(batch)


def audit_row(actor: Actor, change: Change, audit_id: str) -> dict[str, Any]:
    """The audit row of `change`."""
    return audit.values(actor=actor, table=change.table.name, row_id=change.row_id,
                        operation=change.operation, before=change.before, after=change.after,
                        audit_id=audit_id)


def mark(connection: Connection, operation_id: str, state: str, *, anchor_audit_id: str | None = None,
         **claimed: Any) -> None:
    """Record that the operation reached `state` (PENDING: with its claim columns, if any)."""
    statements.execute(connection, write_operations.insert().values(
        operation_id=operation_id, state=state, recorded_at=dt.datetime.now(dt.UTC),
        anchor_audit_id=anchor_audit_id, **claimed))


def committed(operation_id: ColumnElement[str]) -> ColumnElement[bool]:
    """The operation's changes count: it was never journaled (a transaction), or it was COMMITTED."""
    w = write_operations
    started = exists().where(w.c.operation_id == operation_id, w.c.state == "PENDING")
    done = exists().where(w.c.operation_id == operation_id, w.c.state == "COMMITTED")
    return or_(~started, done)


def ended(operation_id: ColumnElement[str]) -> ColumnElement[bool]:
    """The operation has an end marker (COMMITTED or ABORTED)."""
    end = write_operations.alias("ended")
    return exists().where(end.c.operation_id == operation_id, end.c.state != "PENDING")


def unfinished(connection: Connection, operation_id: str) -> bool:
    """True when the operation started (PENDING) and has not ended."""
    w = write_operations
    ended = exists().where(w.c.operation_id == operation_id, w.c.state != "PENDING")
    stmt = select(w.c.operation_id).where(w.c.operation_id == operation_id, w.c.state == "PENDING", ~ended)
    return connection.execute(stmt).first() is not None
