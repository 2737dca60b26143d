"""One change to one row, as a Writer records it: the statement that makes it and its audit images."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, CursorResult, Executable, Row, Table

from gateway.store import retry

MAX_PARAMS = {"databricks": 255}  # bound parameters per statement; Databricks refuses more
DEFAULT_MAX_PARAMS = 30_000


@dataclass
class Change:
    """INSERT, UPDATE or DELETE of the row `row_id`; an UPDATE with a guard applies only while it holds."""

    table: Table
    operation: str
    row_id: str
    values: dict[str, Any]
    before: dict[str, Any] | None
    guard: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def insert(cls, table: Table, values: Mapping[str, Any]) -> Change:
        """A new row (its `id` given)."""
        return cls(table, "INSERT", str(values["id"]), dict(values), None)

    @classmethod
    def update(cls, table: Table, before: Row[Any] | Any, values: Mapping[str, Any],
               guard: Mapping[str, Any] | None = None) -> Change:
        """Set `values` on the row read as `before`, only while it holds `guard`."""
        image = dict(before._mapping)
        return cls(table, "UPDATE", str(image["id"]), dict(values), image, dict(guard or {}))

    @classmethod
    def delete(cls, table: Table, before: Row[Any] | Any) -> Change:
        """Remove the row read as `before`."""
        image = dict(before._mapping)
        return cls(table, "DELETE", str(image["id"]), {}, image)

    @property
    def after(self) -> dict[str, Any] | None:
        """The row as this change leaves it; None once deleted."""
        if self.operation == "DELETE":
            return None
        return dict(self.values) if self.before is None else {**self.before, **self.values}

    def holds(self) -> bool:
        """True when the row read as `before` satisfies the guard."""
        return self.before is None or all(self.before.get(k) == v for k, v in self.guard.items())

    def unguarded(self) -> Change:
        """The same change, applied whatever the row holds."""
        return dataclasses.replace(self, guard={})


def statement(change: Change) -> Executable:
    """The SQL that makes `change`."""
    table = change.table
    if change.operation == "INSERT":
        return table.insert().values(**change.values)
    if change.operation == "DELETE":
        return table.delete().where(table.c.id == change.row_id)
    held = [table.c[name] == value for name, value in change.guard.items()]
    return table.update().where(table.c.id == change.row_id, *held).values(**change.values)


def execute(connection: Connection, stmt: Executable) -> CursorResult[Any]:
    """Run one write statement; on Databricks, again when its Delta commit lost a race (it wrote nothing)."""
    if connection.dialect.name != "databricks":
        return connection.execute(stmt)
    return retry.run_write_statement(lambda: connection.execute(stmt))


def apply(connection: Connection, change: Change) -> bool:
    """Make `change`; False when its guard matched no row (nothing changed)."""
    result = execute(connection, statement(change))
    return not change.guard or result.rowcount == 1


def insert_rows(connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert `rows` with multi-row INSERTs, each under the store's limit of bound parameters."""
    for chunk in chunks(connection, table, rows):
        execute(connection, table.insert().values(list(chunk)))


def chunks(connection: Connection, table: Table,
           rows: Sequence[Mapping[str, Any]]) -> Iterator[Sequence[Mapping[str, Any]]]:
    """`rows` in slices that fit one statement."""
    limit = MAX_PARAMS.get(connection.dialect.name, DEFAULT_MAX_PARAMS)
    width = max((len(row) for row in rows), default=1)
    size = max(1, limit // width)
    for start in range(0, len(rows), size):
        yield rows[start:start + size]
