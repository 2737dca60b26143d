"""Bounded waits: no call waits on the store longer than DEAL_DESK_STATEMENT_TIMEOUT_S.

PostgreSQL bounds each statement and each lock wait itself (`statement_timeout`, `lock_timeout`). SQLite
bounds a wait for the write lock by its busy timeout, and a statement that runs too long is interrupted by a
progress handler that checks the statement's deadline. Either way the driver raises an OperationalError,
which the store answers as SERVICE_UNAVAILABLE (gateway/store/database.py); the transaction rolls back, so a
mutation cut short writes nothing, and the connection goes back to the pool usable.

A Databricks SQL warehouse has a statement timeout of its own (DEAL_DESK_DATABRICKS_STATEMENT_TIMEOUT_S, for
the long statements of seed, migrate and backup), but no lock waits to bound. A request's statement there runs
under a watch: still running CANCEL_AFTER seconds after it was sent, it is cancelled from another thread
(`Cursor.cancel`, which the connector documents as thread-safe) and the call raises StatementCancelled. A
journaled write cut short is settled like a crashed one (gateway/store/journal.py).
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import structlog
from sqlalchemy import Connection, Engine, event
from sqlalchemy.engine import URL

log = structlog.get_logger("deal_desk.store")

DEADLINE = "deal_desk_deadline"  # the connection record's info: [monotonic deadline of its statement]
PROGRESS_EVERY = 10_000  # SQLite virtual-machine steps between two checks of the deadline
CANCEL_AFTER = "deal_desk_cancel_after_s"  # execution option: seconds a statement runs before its cancel
WATCH = "deal_desk_watch"  # the connection's info: the watch over its running statement
RECANCEL_S = 1.0  # a cancel sent before the warehouse knew the statement is sent again after this long


class StatementCancelled(Exception):
    """A statement ran longer than the store timeout and was cancelled."""


def postgresql(url: URL, seconds: float) -> URL:
    """`url` with statement and lock timeouts in its session options (kept with options it already has)."""
    ms = max(1, round(seconds * 1000))
    ours = f"-c statement_timeout={ms} -c lock_timeout={ms}"
    theirs = url.query.get("options")
    options = ours if not theirs else f"{theirs if isinstance(theirs, str) else ' '.join(theirs)} {ours}"
    return url.update_query_dict({"options": options})


def sqlite_pragma(seconds: float) -> str:
    """The busy timeout that bounds a wait for SQLite's write lock."""
    return f"PRAGMA busy_timeout={max(1, round(seconds * 1000))}"


def bound_sqlite_statements(engine: Engine, seconds: float) -> None:
    """Interrupt a SQLite statement still running `seconds` after it started."""

    def on_connect(dbapi_connection: Any, record: Any) -> None:
        deadline = record.info[DEADLINE] = [math.inf]
        dbapi_connection.set_progress_handler(lambda: time.monotonic() > deadline[0], PROGRESS_EVERY)

    def start(connection: Connection, *_args: Any) -> None:
        _deadline(connection)[0] = time.monotonic() + seconds

    def stop(connection: Connection) -> None:
        _deadline(connection)[0] = math.inf  # a rollback is never interrupted, nor an idle connection

    event.listen(engine, "connect", on_connect)
    event.listen(engine, "before_cursor_execute", start)
    event.listen(engine, "commit", start)
    event.listen(engine, "rollback", stop)


def _deadline(connection: Connection) -> list[float]:
    deadline: list[float] = connection.connection.info.setdefault(DEADLINE, [math.inf])
    return deadline


@dataclass
class _Watch:
    """Cancels `cursor`'s statement once `seconds` pass without `done` being set."""

    cursor: Any
    seconds: float
    done: threading.Event = field(default_factory=threading.Event)
    fired: bool = False

    def run(self) -> None:
        """The watching thread: wait, then cancel until the statement returns."""
        wait = self.seconds
        while not self.done.wait(wait):
            self.fired, wait = True, RECANCEL_S
            try:
                self.cursor.cancel()
            except Exception as error:  # the statement may be ending meanwhile; its own call reports it
                log.info("statement cancel failed", error_type=type(error).__name__)


def cancel_overdue_statements(engine: Engine) -> None:
    """Cancel a statement on `engine` still running CANCEL_AFTER seconds (an execution option) after it was
    sent; the call then raises StatementCancelled. Statements without the option are not watched."""
    event.listen(engine, "before_cursor_execute", _watch)
    event.listen(engine, "after_cursor_execute", _end_watch)
    event.listen(engine, "handle_error", _cancelled)


def _watch(connection: Connection, cursor: Any, _statement: str, _parameters: Any, context: Any,
           _executemany: bool) -> None:
    seconds = context.execution_options.get(CANCEL_AFTER) if context is not None else None
    if seconds is None:
        return
    watch = connection.info[WATCH] = _Watch(cursor, float(seconds))
    threading.Thread(target=watch.run, name="deal-desk-statement-watch", daemon=True).start()


def _stop(connection: Connection | None) -> _Watch | None:
    """Stop the connection's watch: the watch when it cancelled the statement."""
    watch: _Watch | None = connection.info.pop(WATCH, None) if connection is not None else None
    if watch is not None:
        watch.done.set()
    return watch if watch is not None and watch.fired else None


def _end_watch(connection: Connection, *_args: Any) -> None:
    # A cancelled statement may return as if it had finished (the Thrift backend ends its poll on
    # CANCELED_STATE): its answer is not to be trusted.
    if (watch := _stop(connection)) is not None:
        log.warning("store statement cancelled", after_s=watch.seconds)
        raise StatementCancelled()


def _cancelled(context: Any) -> BaseException | None:
    if (watch := _stop(context.connection)) is None:
        return None
    log.warning("store statement cancelled", after_s=watch.seconds,
                error_type=type(context.original_exception).__name__)
    cancelled = StatementCancelled()
    cancelled.__cause__ = context.original_exception
    return cancelled
