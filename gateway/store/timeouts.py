"""Bounded waits: no call waits on the store longer than DEAL_DESK_STATEMENT_TIMEOUT_S.

PostgreSQL bounds each statement and each lock wait itself (`statement_timeout`, `lock_timeout`). SQLite
bounds a wait for the write lock by its busy timeout, and a statement that runs too long is interrupted by a
progress handler that checks the statement's deadline. Either way the driver raises an OperationalError,
which the store answers as SERVICE_UNAVAILABLE (gateway/store/database.py); the transaction rolls back, so a
mutation cut short writes nothing, and the connection goes back to the pool usable.
"""

from __future__ import annotations

import math
import time
from typing import Any

from sqlalchemy import Connection, Engine, event
from sqlalchemy.engine import URL

DEADLINE = "deal_desk_deadline"  # the connection record's info: [monotonic deadline of its statement]
PROGRESS_EVERY = 10_000  # SQLite virtual-machine steps between two checks of the deadline


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
