"""Every read the gateway sends runs on Spark SQL over the demo data and answers what SQLite answers.

The statement objects come from the real store functions (tests.support.statements). SQLite runs
them as the gateway would; for Spark they are rendered by the Databricks dialect and sent with the
parameters the connector would receive. databricks-sqlalchemy writes each marker as ``:`name` ``;
Spark's `args` are keyed by the plain name (the backticks only quote it in the SQL text), and the
dialect's parameter dict already uses plain names, so it is passed unchanged.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine

from gateway.core.columns import UTC
from tests.support.fake_warehouse import FakeWarehouse, sent_sql
from tests.support.statements import Ids, capture, ids_from_store, reads

pytestmark = [
    pytest.mark.spark,
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning"),
]

READS = sorted(reads())
# No idempotency keys, persisted queries or deleted deal in the demo data; no deal name holds a literal "_%".
EXPECTED_EMPTY = {"idempotency.find", "persisted_queries.find", "verify.check_deleted[deals]",
                  "deal.get_page[filter=search_wildcards]",
                  # the demo data has no half-done journaled writes
                  "repair.stale", "journal.unfinished", "verify.unfinished_operations",
                  "claims.committed_steps", "claims.unfinished"}
# Hours between instants: Databricks subtracts unix_micros() and its decimal division keeps 12 places,
# where SQLite subtracts julianday() doubles (about 40 microseconds apart at worst).
FLOAT_TOLERANCE = 1e-3


@pytest.fixture(scope="session")
def real_ids(seeded: Engine) -> Ids:
    """Ids and cursor values taken from the seeded store."""
    return ids_from_store(seeded)


def normal(value: Any) -> Any:
    """A value both engines can be compared on: instants in UTC (naive means UTC), the rest as given."""
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value


def sort_key(row: Sequence[Any]) -> tuple[str, ...]:
    """Orders rows alike on both sides; approximate numbers are rounded for ordering only."""
    return tuple(repr(round(float(v), 3)) if isinstance(v, float) else repr(normal(v)) for v in row)


def same_value(ours: Any, theirs: Any) -> bool:
    """Equal values; a float on either side is compared approximately, everything else exactly."""
    if isinstance(ours, float) or isinstance(theirs, float):
        if ours is None or theirs is None:
            return ours is theirs
        return math.isclose(float(ours), float(theirs), rel_tol=1e-9, abs_tol=FLOAT_TOLERANCE)
    if isinstance(ours, Decimal) or isinstance(theirs, Decimal):
        return ours is not None and theirs is not None and Decimal(ours) == Decimal(theirs)
    return bool(normal(ours) == normal(theirs))


def assert_same_rows(sqlite_rows: list[tuple[Any, ...]], spark_rows: list[tuple[Any, ...]]) -> None:
    """The same rows (in any order), value by value."""
    assert len(spark_rows) == len(sqlite_rows)
    for ours, theirs in zip(sorted(sqlite_rows, key=sort_key), sorted(spark_rows, key=sort_key), strict=True):
        assert len(ours) == len(theirs)
        assert all(same_value(a, b) for a, b in zip(ours, theirs, strict=True)), (ours, theirs)


@pytest.mark.parametrize("name", READS)
def test_read_answers_as_on_sqlite(
    spark: Any, spark_tables: None, seeded: Engine, warehouse: tuple[Engine, FakeWarehouse],
    real_ids: Ids, name: str,
) -> None:
    engine, fake = warehouse
    recorded = capture(reads(real_ids)[name], engine.dialect)
    sent = sent_sql(engine, fake, recorded)
    assert len(sent) == len(recorded)
    with seeded.connect() as sqlite:
        for item, (sql, params) in zip(recorded, sent, strict=True):
            sqlite_rows = [tuple(row) for row in sqlite.execute(item.statement, item.parameters)]
            spark_rows = [tuple(row) for row in spark.sql(sql, args=dict(params or {})).collect()]
            assert_same_rows(sqlite_rows, spark_rows)


def test_the_comparison_is_not_vacuous(seeded: Engine, real_ids: Ids) -> None:
    """Every read but a few finds rows in the demo data, so equal answers mean something."""
    empty = set()
    with seeded.connect() as sqlite:
        for name, call in reads(real_ids).items():
            recorded = capture(call, sqlite.dialect)
            if all(not sqlite.execute(item.statement, item.parameters).first() for item in recorded):
                empty.add(name)
    assert empty == EXPECTED_EMPTY
