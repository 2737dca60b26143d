"""Every modification goes through a Writer, so no change is ever unaudited.

On a store with transactions each change runs at once, with its audit record, in the caller's
transaction. Where writes are journaled (no multi-statement transactions: gateway/store/journal.py)
the Writer only records the changes; the journal applies them, audit first, when the operation ends.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Row, Table, select

from gateway.core.errors import Conflict
from gateway.store import audit, changes, journal, reference_cache
from gateway.store.audit import Actor
from gateway.store.changes import Change

STALE = "The deal was changed by someone else; reload it and retry."


class Writer:
    """Inserts, updates and deletes rows with their audit records."""

    def __init__(self, connection: Connection, actor: Actor) -> None:
        self.connection, self.actor = connection, actor
        self.journal = journal.of(connection)

    def insert(self, table: Table, values: Mapping[str, Any]) -> None:
        """Insert one row (its `id` given) and audit it."""
        self._apply(Change.insert(table, values))

    def update(self, table: Table, before: Row[Any], changes: Mapping[str, Any]) -> None:
        """Update one row read as `before` and audit the change."""
        self._apply(Change.update(table, before, changes))

    def update_versioned(self, table: Table, before: Row[Any], expected_version: int,
                         changes: Mapping[str, Any]) -> int:
        """Compare-and-set on `version` in the UPDATE itself; CONFLICT when another write came first."""
        new_version = expected_version + 1
        change = Change.update(table, before, {**changes, "version": new_version},
                               guard={"version": expected_version})
        if not self._apply(change):
            raise Conflict(STALE, field="expectedVersion")
        return new_version

    def update_if(self, table: Table, before: Row[Any], changes: Mapping[str, Any],
                  expected: Mapping[str, Any]) -> bool:
        """Compare-and-set: update only while the row still holds `expected`; False when it no longer did."""
        return self._apply(Change.update(table, before, changes, guard=expected))

    def delete(self, table: Table, before: Row[Any]) -> None:
        """Delete one row read as `before` and audit it."""
        self._apply(Change.delete(table, before))

    def read(self, table: Table, row_id: str) -> Row[Any] | None:
        """The current row, as this operation has left it so far."""
        if self.journal is not None and self.journal.touched(table, row_id):
            return self.journal.image(table, row_id)
        return self.connection.execute(select(table).where(table.c.id == row_id)).first()

    def _apply(self, change: Change) -> bool:
        reference_cache.changed(self.connection, change.table.name, change.row_id)
        if self.journal is not None:
            # The row was read just now: a guard it fails would fail at the flush too.
            return change.holds() and self.journal.record(self.actor, change)
        if not changes.apply(self.connection, change):
            return False
        self._audit(change.table, change.row_id, change.operation, change.before, change.after)
        return True

    def _audit(self, table: Table, row_id: str, operation: str, before: Mapping[Any, Any] | None,
               after: Mapping[Any, Any] | None) -> None:
        audit.record(self.connection, actor=self.actor, table=table.name, row_id=row_id,
                     operation=operation, before=before, after=after)
