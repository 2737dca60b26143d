"""Every modification goes through a Writer, so no change is ever unaudited."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Row, Table, select

from gateway import audit
from gateway.audit import Actor
from gateway.errors import Conflict


class Writer:
    """Inserts, updates and deletes rows with their audit records, in one transaction."""

    def __init__(self, connection: Connection, actor: Actor) -> None:
        self.connection, self.actor = connection, actor

    def insert(self, table: Table, values: Mapping[str, Any]) -> None:
        """Insert one row (its `id` given) and audit it."""
        self.connection.execute(table.insert().values(**values))
        self._audit(table, str(values["id"]), "INSERT", None, values)

    def update(self, table: Table, before: Row[Any], changes: Mapping[str, Any]) -> None:
        """Update one row read as `before` and audit the change."""
        self.connection.execute(table.update().where(table.c.id == before.id).values(**changes))
        self._audit(table, before.id, "UPDATE", before._mapping, {**before._mapping, **changes})

    def update_versioned(self, table: Table, before: Row[Any], expected_version: int,
                         changes: Mapping[str, Any]) -> int:
        """Compare-and-set on `version` in the UPDATE itself; CONFLICT when another write came first."""
        new_version = expected_version + 1
        stmt = (table.update()
                .where(table.c.id == before.id, table.c.version == expected_version)
                .values(**changes, version=new_version))
        if self.connection.execute(stmt).rowcount != 1:
            raise Conflict("The deal was changed by someone else; reload it and retry.",
                           field="expectedVersion")
        after = {**before._mapping, **changes, "version": new_version}
        self._audit(table, before.id, "UPDATE", before._mapping, after)
        return new_version

    def update_if(self, table: Table, before: Row[Any], changes: Mapping[str, Any],
                  expected: Mapping[str, Any]) -> bool:
        """Compare-and-set: update only while the row still holds `expected`; False when it no longer did."""
        held = [table.c[name] == value for name, value in expected.items()]
        stmt = table.update().where(table.c.id == before.id, *held).values(**changes)
        if self.connection.execute(stmt).rowcount != 1:
            return False
        self._audit(table, before.id, "UPDATE", before._mapping, {**before._mapping, **changes})
        return True

    def delete(self, table: Table, before: Row[Any]) -> None:
        """Delete one row read as `before` and audit it."""
        self.connection.execute(table.delete().where(table.c.id == before.id))
        self._audit(table, before.id, "DELETE", before._mapping, None)

    def read(self, table: Table, row_id: str) -> Row[Any] | None:
        """The current row, inside this transaction."""
        return self.connection.execute(select(table).where(table.c.id == row_id)).first()

    def _audit(self, table: Table, row_id: str, operation: str, before: Mapping[Any, Any] | None,
               after: Mapping[Any, Any] | None) -> None:
        audit.record(self.connection, actor=self.actor, table=table.name, row_id=row_id,
                     operation=operation, before=before, after=after)
