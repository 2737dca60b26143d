"""SQL the stores spell differently, compiled per dialect: month keys, hours between instants, upserts,
the first item of a comma-separated list, and exact quarters of a scaled decimal sum."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Executable, Float, String, Table, func, literal_column, text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from gateway.core.columns import Quantile


# Lower-case class names: they read like the SQL functions they stand for.
class year_month(FunctionElement[str]):
    """'YYYY-MM' of a date or timestamp, as text."""

    type = String()
    name = "year_month"
    inherit_cache = True


class hours_between(FunctionElement[float]):
    """Hours from the first instant (start) to the second (end), as a float."""

    type = Float()
    name = "hours_between"
    inherit_cache = True


class first_item(FunctionElement[str]):
    """The text before the first comma (all of it when there is none): a deal's main channel."""

    type = String()
    name = "first_item"
    inherit_cache = True


class quantile_of_quarters(FunctionElement[Any]):
    """A sum of Rate values (4 places) weighted in quarters, divided by 4 into a Quantile (6 places).

    Exact on every store: SQLite keeps both as scaled integers (x 10^4 in, x 10^6 out: times 25);
    PostgreSQL and Databricks multiply decimals by 0.25, which loses nothing.
    """

    type = Quantile()
    name = "quantile_of_quarters"
    inherit_cache = True


def _unsupported(element: FunctionElement[Any], compiler: SQLCompiler, **_kw: Any) -> str:
    raise NotImplementedError(f"{element.name} has no SQL for dialect {compiler.dialect.name!r}")


compiles(year_month)(_unsupported)
compiles(hours_between)(_unsupported)
compiles(first_item)(_unsupported)
compiles(quantile_of_quarters)(_unsupported)


def _args(element: FunctionElement[Any], compiler: SQLCompiler, **kw: Any) -> list[str]:
    return [compiler.process(argument, **kw) for argument in element.clauses]


@compiles(year_month, "sqlite")
def _year_month_sqlite(element: year_month, compiler: SQLCompiler, **kw: Any) -> str:
    # A literal column, not raw text, so '%' is escaped wherever the paramstyle needs it.
    return compiler.process(func.strftime(literal_column("'%Y-%m'"), *element.clauses), **kw)


@compiles(year_month, "postgresql")
def _year_month_postgresql(element: year_month, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(func.to_char(*element.clauses, literal_column("'YYYY-MM'")), **kw)


@compiles(year_month, "databricks")
def _year_month_databricks(element: year_month, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(func.date_format(*element.clauses, literal_column("'yyyy-MM'")), **kw)


# The outer parentheses keep the division whole inside larger arithmetic (x / hours_between(...)).
@compiles(hours_between, "sqlite")
def _hours_between_sqlite(element: hours_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = _args(element, compiler, **kw)
    return f"((julianday({end}) - julianday({start})) * 24.0)"


@compiles(hours_between, "postgresql")
def _hours_between_postgresql(element: hours_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = _args(element, compiler, **kw)
    return f"(EXTRACT(EPOCH FROM ({end} - {start})) / 3600.0)"


@compiles(hours_between, "databricks")
def _hours_between_databricks(element: hours_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = _args(element, compiler, **kw)
    # unix_timestamp() would count whole seconds; microseconds keep what SQLite and PostgreSQL keep.
    return f"((unix_micros({end}) - unix_micros({start})) / 3600000000.0)"


@compiles(first_item, "sqlite")
def _first_item_sqlite(element: first_item, compiler: SQLCompiler, **kw: Any) -> str:
    [items] = _args(element, compiler, **kw)
    comma = f"instr({items}, ',')"
    return f"(CASE WHEN {comma} > 0 THEN substr({items}, 1, {comma} - 1) ELSE {items} END)"


@compiles(first_item, "postgresql")
def _first_item_postgresql(element: first_item, compiler: SQLCompiler, **kw: Any) -> str:
    [items] = _args(element, compiler, **kw)
    return f"split_part({items}, ',', 1)"


@compiles(first_item, "databricks")
def _first_item_databricks(element: first_item, compiler: SQLCompiler, **kw: Any) -> str:
    [items] = _args(element, compiler, **kw)
    return f"substring_index({items}, ',', 1)"


@compiles(quantile_of_quarters, "sqlite")
def _quarters_sqlite(element: quantile_of_quarters, compiler: SQLCompiler, **kw: Any) -> str:
    [total] = _args(element, compiler, **kw)
    return f"(({total}) * 25)"


@compiles(quantile_of_quarters, "postgresql")
def _quarters_postgresql(element: quantile_of_quarters, compiler: SQLCompiler, **kw: Any) -> str:
    [total] = _args(element, compiler, **kw)
    return f"CAST(({total}) * 0.25 AS NUMERIC(24, 6))"


@compiles(quantile_of_quarters, "databricks")
def _quarters_databricks(element: quantile_of_quarters, compiler: SQLCompiler, **kw: Any) -> str:
    [total] = _args(element, compiler, **kw)
    return f"CAST(({total}) * 0.25 AS DECIMAL(24, 6))"


def insert_absent(dialect: str, table: Table, values: Mapping[str, Any], *, key: str) -> Executable:
    """INSERT `values` unless a row with the same `key` exists: MERGE on Databricks (no unique keys)."""
    if dialect == "databricks":
        names = list(values)
        source = ", ".join(f":{name} AS `{name}`" for name in names)
        inserted = ", ".join(f"s.`{name}`" for name in names)
        return text(
            f"MERGE INTO `{table.name}` t USING (SELECT {source}) s ON t.`{key}` = s.`{key}` "
            f"WHEN NOT MATCHED THEN INSERT ({', '.join(f'`{n}`' for n in names)}) VALUES ({inserted})"
        ).bindparams(**values)
    insert = sqlite_insert if dialect == "sqlite" else postgresql_insert
    return insert(table).values(**values).on_conflict_do_nothing(index_elements=[key])
