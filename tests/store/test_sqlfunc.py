"""Per-dialect compilation of the constructs in gateway.store.sqlfunc."""

from __future__ import annotations

import pytest
from sqlalchemy import column, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.engine.default import DefaultDialect
from sqlalchemy.sql import ClauseElement

from gateway.store.sqlfunc import hours_between, year_month


class DatabricksLike(DefaultDialect):
    """Stands in for databricks-sqlalchemy (not installed): only the name matters to @compiles."""

    name = "databricks"


def sql(element: ClauseElement, dialect: Dialect) -> str:
    return str(element.compile(dialect=dialect))


MONTH = year_month(column("start_date"))
HOURS = hours_between(column("activated_at"), column("decided_at"))


def test_year_month() -> None:
    assert sql(MONTH, sqlite.dialect()) == "strftime('%Y-%m', start_date)"
    assert sql(MONTH, postgresql.dialect()) == "to_char(start_date, 'YYYY-MM')"
    assert sql(MONTH, DatabricksLike()) == "date_format(start_date, 'yyyy-MM')"


def test_year_month_escapes_percent_for_format_paramstyles() -> None:
    assert sql(MONTH, sqlite.dialect(paramstyle="format")) == "strftime('%%Y-%%m', start_date)"


def test_hours_between() -> None:
    assert sql(HOURS, sqlite.dialect()) == "((julianday(decided_at) - julianday(activated_at)) * 24.0)"
    assert sql(HOURS, postgresql.dialect()) == "(EXTRACT(EPOCH FROM (decided_at - activated_at)) / 3600.0)"
    assert sql(HOURS, DatabricksLike()) == (
        "((unix_micros(decided_at) - unix_micros(activated_at)) / 3600000000.0)"
    )


def test_hours_between_stays_whole_inside_arithmetic() -> None:
    assert sql(1 - HOURS, postgresql.dialect()).endswith(
        "- (EXTRACT(EPOCH FROM (decided_at - activated_at)) / 3600.0)"
    )


def test_in_a_statement() -> None:
    stmt = select(MONTH.label("month"))
    assert sql(stmt, sqlite.dialect()) == "SELECT strftime('%Y-%m', start_date) AS month"


@pytest.mark.parametrize("element", [MONTH, HOURS], ids=["year_month", "hours_between"])
def test_other_dialects_refuse(element: ClauseElement) -> None:
    with pytest.raises(NotImplementedError, match="'default'"):
        sql(element, DefaultDialect())
