"""The spark tier: one local SparkSession per run checks the SQL the Databricks dialect renders.

Spark SQL is the engine under Databricks SQL: its parser must accept every statement the gateway
sends, and its answers to the reads must match SQLite's on the same data. The tier is skipped with
the reason when pyspark (the `spark` extra) or a Java runtime is missing.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, Table, delete, select, update

from gateway.core import tables
from gateway.core.columns import UTC
from gateway.core.settings import Settings
from gateway.ops import seed
from gateway.store import engine as engines
from gateway.store import pricing
from gateway.store.database import Database
from gateway.store.migrate import migrate
from tests.support.fake_warehouse import FakeWarehouse, fake_warehouse

# py4j logs from __del__ at interpreter exit, after pytest closed the captured streams.
logging.getLogger("py4j").setLevel(logging.WARNING)

WAREHOUSE_URL = (
    "databricks://adb-1234567890123456.7.azuredatabricks.net"
    "?http_path=/sql/1.0/warehouses/0123456789abcdef&catalog=main&schema=deal_desk_test"
)


def missing_requirement() -> str | None:
    """Why this machine cannot run the tier, or None."""
    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed: pip install -e '.[test,spark]'"
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "no Java runtime on PATH or in JAVA_HOME (Spark needs Java 17 or newer)"
    return None


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One local SparkSession for the whole run (it takes several seconds to start)."""
    reason = missing_requirement()
    if reason and os.environ.get("DEAL_DESK_REQUIRE_SPARK"):
        pytest.fail(reason)
    if reason:
        pytest.skip(reason)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # never bind or announce another address
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]").appName("deal-desk-spark-tier")
        .config("spark.sql.session.timeZone", "UTC")  # as the gateway's warehouse sessions (TIMEZONE)
        .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        # A few thousand rows per table: compiling plans to Java costs more than running them.
        .config("spark.sql.codegen.wholeStage", "false").config("spark.sql.adaptive.enabled", "false")
        .config("spark.sql.warehouse.dir", str(tmp_path_factory.mktemp("spark-warehouse")))
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def warehouse() -> Iterator[tuple[Engine, FakeWarehouse]]:
    """A databricks engine built by the gateway's own factory, connected to the recording fake warehouse."""
    settings = Settings(database_url=WAREHOUSE_URL, databricks_token="dapi-test-token",  # type: ignore[call-arg]
                        _env_file=None)
    with fake_warehouse() as fake:
        engine = engines.create(WAREHOUSE_URL, settings)
        yield engine, fake
        engine.dispose()


@pytest.fixture(scope="session")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A SQLite store with the demo data at scale 1 (one month, about a thousand deals)."""
    path: Path = tmp_path_factory.mktemp("seeded") / "deal_desk.db"
    database = Database(f"sqlite:///{path}")
    migrate(database.engine)
    seed.seed(database.engine, scale=1, progress=False)
    tamper(database.engine)
    with database.engine.begin() as connection:  # the pricing guidance of the demo data
        pricing.refresh(connection, now=seed.ANCHOR, stale_before=None)
    yield database.engine
    database.dispose()


def tamper(engine: Engine) -> None:
    """Changes made behind the gateway's back, so the reads of `audit verify` have something to find."""
    deals, history, approvals = tables.deals, tables.deal_status_history, tables.deal_approvals
    acted = select(tables.approval_actions.c.approval_id)
    with engine.begin() as connection:
        first_deal = connection.execute(select(deals.c.id).order_by(deals.c.id).limit(1)).scalar_one()
        connection.execute(update(deals).where(deals.c.id == first_deal).values(status="WITHDRAWN"))
        for table, rows in ((history, select(history.c.id)), (approvals, select(approvals.c.id).where(
                approvals.c.id.not_in(acted)))):
            row_id = connection.execute(rows.order_by(table.c.id).limit(1)).scalar_one()
            connection.execute(delete(table).where(table.c.id == row_id))


def spark_types(table: Table, dialect: Any) -> dict[str, str]:
    """The table's column types as the Databricks dialect renders them (STRING, DECIMAL(18, 2), ...)."""
    return {column.name: str(dialect.type_compiler_instance.process(column.type.dialect_impl(dialect)))
            for column in table.columns}


def arrow_type(spark_type: str) -> Any:
    """The Parquet (Arrow) type that Spark reads back as `spark_type`."""
    import pyarrow as pa

    if spark_type.startswith("DECIMAL("):
        precision, scale = (int(part) for part in spark_type[len("DECIMAL("):-1].split(","))
        return pa.decimal128(precision, scale)
    return {"STRING": pa.string(), "INT": pa.int32(), "BIGINT": pa.int64(), "BOOLEAN": pa.bool_(),
            "DATE": pa.date32(), "TIMESTAMP_NTZ": pa.timestamp("us"), "DOUBLE": pa.float64()}[spark_type]


def warehouse_value(value: Any) -> Any:
    """A value as the warehouse holds it: instants as naive UTC (TIMESTAMP_NTZ), the rest unchanged."""
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def copy_table(spark: Any, connection: Connection, table: Table, dialect: Any, folder: Path) -> None:
    """`table` as a Parquet file read by a Spark temporary view of the same name, with the dialect's types."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    types = spark_types(table, dialect)
    schema = pa.schema([(name, arrow_type(kind)) for name, kind in types.items()])
    # Read through SQLAlchemy so SQLite's scaled-integer money comes back as exact Decimals.
    rows = [{key: warehouse_value(value) for key, value in row._mapping.items()}
            for row in connection.execute(select(table))]
    path = folder / f"{table.name}.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
    ddl = ", ".join(f"`{name}` {kind}" for name, kind in types.items())
    spark.read.schema(ddl).parquet(str(path)).createOrReplaceTempView(table.name)
    spark.catalog.cacheTable(table.name)  # kept in memory from its first use: the reads scan it often


@pytest.fixture(scope="session")
def spark_tables(spark: Any, seeded: Engine, warehouse: tuple[Engine, FakeWarehouse],
                 tmp_path_factory: pytest.TempPathFactory) -> None:
    """Every table of the seeded store copied into Spark, same names, the Databricks dialect's types."""
    folder = tmp_path_factory.mktemp("parquet")
    with seeded.connect() as connection:
        for table in tables.metadata.sorted_tables:
            copy_table(spark, connection, table, warehouse[0].dialect, folder)
