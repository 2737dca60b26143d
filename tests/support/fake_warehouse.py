"""A stand-in for databricks-sql-connector's connection: records what the dialect sends, touches no network.

It answers like an empty warehouse: DESCRIBE of an uncreated table fails as Databricks does, SELECTs
return no rows (except the versions migrate recorded), and `cursor.columns` lists a created table's
columns from the gateway's metadata. Engines are pointed at it through the `do_connect` event.
A test can make statements fail as the connector would (`fail`), answer rows (`respond`), or run until
they are cancelled (`hold`).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from databricks.sql.exc import ServerOperationError
from sqlalchemy import Engine, event

from gateway.core import tables

NAME = re.compile(r"`?(\w+)`?\s*$")


class ColumnInfo(NamedTuple):
    """One row of the connector's cursor.columns() answer, the fields the dialect reads."""

    COLUMN_NAME: str
    TYPE_NAME: str
    NULLABLE: int
    COLUMN_DEF: str | None
    REMARKS: str | None


@dataclass
class FakeWarehouse:
    """Every statement and connect() call it received, and the state an empty warehouse would build."""

    statements: list[tuple[str, dict[str, Any] | None]] = field(default_factory=list)
    connects: list[dict[str, Any]] = field(default_factory=list)
    created: set[str] = field(default_factory=set)
    schemas: set[str] = field(default_factory=set)
    versions: list[int] = field(default_factory=list)
    missing: dict[str, set[str]] = field(default_factory=dict)  # columns a created table lacks
    failures: list[tuple[str, BaseException]] = field(default_factory=list)  # (text it contains, error)
    holds: list[tuple[str, float]] = field(default_factory=list)  # (text it contains, longest run in s)
    cancels: int = 0  # cursor.cancel() calls that found a statement running
    # Rows for a statement (its text and parameters), or None to answer as an empty warehouse.
    respond: Callable[[str, dict[str, Any] | None], list[tuple[Any, ...]] | None] | None = None

    def sql(self) -> list[str]:
        """The statements' text, in order."""
        return [text for text, _ in self.statements]

    def fail(self, error: BaseException, *, times: int = 1, on: str = "") -> None:
        """The next `times` statements containing `on` raise `error` (after being recorded as sent)."""
        self.failures.extend((on, error) for _ in range(times))

    def hold(self, *, on: str, times: int = 1, longest_s: float = 30.0) -> None:
        """The next `times` statements containing `on` run until cancelled (at most `longest_s`), then
        return no rows, as the Thrift backend's poll ends on CANCELED_STATE."""
        self.holds.extend((on, longest_s) for _ in range(times))

    def held_for(self, text: str) -> float | None:
        """How long `text` runs before it returns unless cancelled, if it is held."""
        for index, (on, longest_s) in enumerate(self.holds):
            if on in text:
                del self.holds[index]
                return longest_s
        return None

    def raise_failure(self, text: str) -> None:
        """Raise the first pending failure meant for `text`, if any."""
        for index, (on, error) in enumerate(self.failures):
            if on in text:
                del self.failures[index]
                raise error


class FakeCursor:
    """A DBAPI cursor over the fake warehouse."""

    def __init__(self, warehouse: FakeWarehouse, dialect: Any) -> None:
        self.warehouse, self.dialect = warehouse, dialect
        self.description: list[tuple[Any, ...]] | None = None
        self.rowcount = -1
        self._rows: list[tuple[Any, ...]] = []
        self._running: threading.Event | None = None

    def cancel(self) -> None:
        """Cancel the running statement (the connector allows it from another thread)."""
        if self._running is not None and not self._running.is_set():
            self.warehouse.cancels += 1
            self._running.set()

    def execute(self, operation: str, parameters: dict[str, Any] | None = None, **_kw: Any) -> None:
        self.warehouse.statements.append((operation, parameters))
        text = operation.strip()
        head = text.upper()
        self.description, self._rows, self.rowcount = None, [], -1
        self.warehouse.raise_failure(text)
        if (longest_s := self.warehouse.held_for(text)) is not None:
            self._running = threading.Event()
            self._running.wait(longest_s)
            return
        answer = self.warehouse.respond(text, parameters) if self.warehouse.respond else None
        if answer is not None:
            self._answer(answer)
        elif head.startswith("DESCRIBE TABLE EXTENDED"):
            self._describe(text)
        elif head.startswith("CREATE TABLE"):
            self.warehouse.created.add(_created_name(text))
        elif head.startswith("CREATE SCHEMA"):
            self.warehouse.schemas.add(_match(text))
        elif head.startswith("INSERT INTO SCHEMA_VERSION"):
            self.warehouse.versions.append(int((parameters or {})["version"]))
        elif head.startswith(("SELECT", "SHOW")):
            self._select(text)
        else:
            self.rowcount = 1

    def executemany(self, operation: str, seq_of_parameters: list[dict[str, Any]]) -> None:
        for parameters in seq_of_parameters:
            self.execute(operation, parameters)

    def _answer(self, rows: list[tuple[Any, ...]]) -> None:
        width = len(rows[0]) if rows else 1
        self.description = [(f"c{i}", "string", None, None, None, None, None) for i in range(width)]
        self._rows, self.rowcount = list(rows), len(rows)

    def _describe(self, text: str) -> None:
        name = _match(text)
        if name not in self.warehouse.created:
            raise ServerOperationError(f"[TABLE_OR_VIEW_NOT_FOUND] The table or view {name} cannot be found.")
        self.description = [(column, "string", None, None, None, None, None)
                            for column in ("col_name", "data_type", "comment")]

    def _select(self, text: str) -> None:
        self.description = [("value", "string", None, None, None, None, None)]
        if "FROM schema_version" in text:
            self._rows = [(version,) for version in self.warehouse.versions]
        elif text.upper().startswith("SHOW SCHEMAS"):
            self._rows = [(schema,) for schema in sorted(self.warehouse.schemas)]

    def columns(self, catalog_name: str | None = None, schema_name: str | None = None,
                table_name: str | None = None, column_name: str | None = None) -> FakeCursor:
        table = tables.metadata.tables[str(table_name)] if table_name in self.warehouse.created else None
        lacking = self.warehouse.missing.get(str(table_name), set())
        columns = [] if table is None else [column for column in table.columns if column.name not in lacking]
        self._rows = [self._column(column) for column in columns]
        return self

    def _column(self, column: Any) -> ColumnInfo:
        kind = self.dialect.type_compiler_instance.process(column.type.dialect_impl(self.dialect))
        kind = kind.replace(", ", ",")  # the warehouse spells DECIMAL(18,2) without a space
        return ColumnInfo(column.name, kind, int(bool(column.nullable)), None, None)

    def fetchall(self) -> list[tuple[Any, ...]]:
        rows, self._rows = self._rows, []
        return rows

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._rows.pop(0) if self._rows else None

    def fetchmany(self, size: int = 1) -> list[tuple[Any, ...]]:
        rows, self._rows = self._rows[:size], self._rows[size:]
        return rows

    def close(self) -> None:
        pass

    def __enter__(self) -> FakeCursor:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _match(text: str) -> str:
    found = NAME.search(text)
    assert found, text
    return found.group(1)


def _created_name(text: str) -> str:
    return re.split(r"\s+", text)[2].strip("`")


class FakeConnection:
    """A DBAPI connection to the fake warehouse."""

    def __init__(self, warehouse: FakeWarehouse, dialect: Any) -> None:
        self.warehouse, self.dialect = warehouse, dialect

    def cursor(self) -> FakeCursor:
        return FakeCursor(self.warehouse, self.dialect)

    def commit(self) -> None:
        pass

    def rollback(self) -> None:
        pass

    def close(self) -> None:
        pass


_ACTIVE: list[FakeWarehouse] = []


def _connect(dialect: Any, _record: Any, _cargs: Any, cparams: dict[str, Any]) -> Any:
    if dialect.name != "databricks" or not _ACTIVE:
        return None
    warehouse = _ACTIVE[-1]
    warehouse.connects.append(dict(cparams))
    return FakeConnection(warehouse, dialect)


@contextmanager
def fake_warehouse() -> Iterator[FakeWarehouse]:
    """Inside the block every databricks engine connects to this (innermost) fake warehouse."""
    warehouse = FakeWarehouse()
    if not _ACTIVE:
        # On the Engine class, after databricks-sqlalchemy's own listener (which sets the user agent).
        event.listen(Engine, "do_connect", _connect)
    _ACTIVE.append(warehouse)
    try:
        yield warehouse
    finally:
        _ACTIVE.remove(warehouse)
        if not _ACTIVE:
            event.remove(Engine, "do_connect", _connect)


def sent_sql(engine: Engine, warehouse: FakeWarehouse, sent: list[Any]) -> list[tuple[str, Any]]:
    """What the connector receives for each recorded statement (`Sent`): SQL text and parameters."""
    out: list[tuple[str, Any]] = []
    with engine.connect() as connection:
        for item in sent:
            start = len(warehouse.statements)
            args = () if item.parameters is None else (item.parameters,)
            connection.execute(item.statement, *args)
            out.extend(warehouse.statements[start:])
    return out
