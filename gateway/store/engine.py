"""Engines per store URL: SQLite durability pragmas, driver choice and the statement counter."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from prometheus_client import Counter
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url

from gateway.store import extra, idle_ping, lakebase, pg_pool, timeouts

if TYPE_CHECKING:
    from gateway.core.settings import Settings

WRITE_OPTION = "deal_desk_write"
JOURNAL_OPTION = "deal_desk_journal"  # gateway.store.journal.OPTION
FKS_OFF = "deal_desk_foreign_keys_off"

STATEMENTS = Counter(
    "deal_desk_db_statements", "SQL statements sent to the store", ["store"]
)

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
)
DEFAULT_TIMEOUT_S = 10.0  # DEAL_DESK_STATEMENT_TIMEOUT_S, for engines made without settings


def create(url: str, settings: Settings | None = None) -> Engine:
    """An engine for `url` with the store's pragmas and the statement counter attached."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "databricks":
        return _databricks(parsed, settings)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    options: dict[str, Any] = {}
    token: Callable[[], str] | None = None
    timeout_s = settings.statement_timeout_s if settings is not None else DEFAULT_TIMEOUT_S
    if parsed.get_backend_name() == "postgresql":
        parsed = timeouts.postgresql(parsed, timeout_s)
        options.update(pg_pool.options(settings, timeout_s))
        token = lakebase.token_source(settings)  # Lakebase: OAuth tokens as passwords
        if token is not None:
            options["pool_recycle"] = lakebase.POOL_RECYCLE_S
    engine = create_engine(parsed, **options)
    if token is not None:
        lakebase.log_in_with(engine, token)
    if engine.dialect.name == "postgresql":
        idle_ping.ping_when_idle(engine, pg_pool.IDLE_PING_S)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", partial(_sqlite_on_connect, busy=timeouts.sqlite_pragma(timeout_s)))
        event.listen(engine, "begin", _sqlite_on_begin)
        timeouts.bound_sqlite_statements(engine, timeout_s)
    _count_statements(engine)
    return engine


def _databricks(url: URL, settings: Settings | None) -> Engine:
    from gateway.core.settings import Settings

    databricks = extra.databricks("a databricks:// store")
    engine = databricks.create_engine(url, settings or Settings())
    _count_statements(engine)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, _record: Any, *, busy: str) -> None:
    # Python's sqlite3 would open transactions on its own, lazily and deferred; we open them.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in (*SQLITE_PRAGMAS, busy):
        cursor.execute(pragma)
    cursor.close()
    # SQLite's own lower() folds only ASCII; searches must fold every letter, as the other stores do.
    dbapi_connection.create_function("lower", 1, _lower, deterministic=True)


def _lower(text: Any) -> Any:
    return text.lower() if isinstance(text, str) else text


def _count_statements(engine: Engine) -> None:
    counter = STATEMENTS.labels(store=engine.dialect.name)

    def before_cursor_execute(*_args: Any) -> None:
        counter.inc()

    event.listen(engine, "before_cursor_execute", before_cursor_execute)


def _sqlite_on_begin(connection: Connection) -> None:
    if connection.get_execution_options().get(JOURNAL_OPTION) is not None:
        # A journaled write stands in for Databricks: every statement commits on its own, and
        # foreign keys are informational there, so the journal's order (anchor first) stands.
        _driver(connection).execute("PRAGMA foreign_keys=OFF")
        connection.connection.info[FKS_OFF] = True
        return
    if connection.connection.info.pop(FKS_OFF, False):
        _driver(connection).execute("PRAGMA foreign_keys=ON")
    # A write takes the write lock up front (BEGIN IMMEDIATE), so two writers queue on the
    # busy timeout instead of failing when a deferred read lock cannot be upgraded. Sent on
    # the driver connection: transaction control is not one of the counted statements.
    immediate = connection.get_execution_options().get(WRITE_OPTION)
    _driver(connection).execute("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _driver(connection: Connection) -> Any:
    return connection.connection.dbapi_connection
