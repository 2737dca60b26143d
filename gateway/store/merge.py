"""MERGE of one row on Databricks, which enforces no key: insert it when absent, optionally replace it.

`MergeRow(table, values, keys=...)` compiles to
`MERGE INTO t AS target USING (SELECT :a AS a, ...) AS source ON target.k = source.k
[WHEN MATCHED AND <replace_when> THEN UPDATE SET ...] WHEN NOT MATCHED THEN INSERT (...) VALUES (...)`;
values stay bound parameters, converted by their columns' types. Concurrent MERGEs of one key make
Delta refuse all but one commit (DELTA_CONCURRENT_APPEND): run it with retry.run_write_statement.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Executable, Table, and_, bindparam, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.selectable import FromClause

Condition = Callable[[FromClause, FromClause], ColumnElement[bool]]


class MergeRow(Executable, ClauseElement):
    """Insert `values` unless a row matches them on `keys`; with `replace_when(target, source)`, a
    matching row for which it holds is overwritten with `values` instead."""

    inherit_cache = False

    def __init__(self, table: Table, values: Mapping[str, Any], *, keys: Sequence[str],
                 replace_when: Condition | None = None) -> None:
        self.target = table.alias("target")
        self.source = select(*(bindparam(name, value, type_=table.c[name].type).label(name)
                               for name, value in values.items())).subquery("source")
        self.names, self.keys = list(values), tuple(keys)
        self.replace_when = replace_when(self.target, self.source) if replace_when else None


@compiles(MergeRow)
def _unsupported(element: MergeRow, compiler: SQLCompiler, **_kw: Any) -> str:
    raise NotImplementedError(f"MERGE is compiled for Databricks only, not {compiler.dialect.name!r}")


@compiles(MergeRow, "databricks")
def _merge_row(element: MergeRow, compiler: SQLCompiler, **kw: Any) -> str:
    target, source = element.target, element.source
    on = and_(*(target.c[key] == source.c[key] for key in element.keys))
    parts = [f"MERGE INTO {compiler.process(target, asfrom=True, **kw)}",
             f"USING {compiler.process(source, asfrom=True, **kw)}", f"ON {compiler.process(on, **kw)}"]
    if element.replace_when is not None:
        parts.append(f"WHEN MATCHED AND {compiler.process(element.replace_when, **kw)} "
                     f"THEN UPDATE SET {_assignments(element, compiler)}")
    columns = ", ".join(_quote(compiler, name) for name in element.names)
    values = ", ".join(f"source.{_quote(compiler, name)}" for name in element.names)
    parts.append(f"WHEN NOT MATCHED THEN INSERT ({columns}) VALUES ({values})")
    return " ".join(parts)


def _assignments(element: MergeRow, compiler: SQLCompiler) -> str:
    names = [name for name in element.names if name not in element.keys]
    return ", ".join(f"{_quote(compiler, name)} = source.{_quote(compiler, name)}" for name in names)


def _quote(compiler: SQLCompiler, name: str) -> str:
    return compiler.preparer.quote(name)
