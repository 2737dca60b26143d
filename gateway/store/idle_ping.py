"""Ping a pooled connection at checkout only when it sat idle: a warehouse round trip is too dear for each.

SQLAlchemy's `pool_pre_ping` sends a ping at every checkout, which on a Databricks SQL warehouse (100 ms
or more per round trip) doubles the round trips of a request. Connections in steady use are alive; the
ones that may have died (the warehouse stopped or restarted, the session timed out) are those that sat
in the pool. This is the "custom pessimistic ping" of SQLAlchemy's pooling guide: a failed ping raises
`DisconnectionError`, and the pool discards that connection and checks out another.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, event, exc

RETURNED = "deal_desk_returned_at"  # connection record info: when the connection was last checked in


def ping_when_idle(engine: Engine, idle_s: float, clock: Callable[[], float] = time.monotonic) -> None:
    """Make `engine`'s pool ping a connection at checkout when it was idle for `idle_s` seconds or more."""
    event.listen(engine, "checkin", functools.partial(_stamp, clock=clock))
    event.listen(engine, "checkout", functools.partial(_ping_if_idle, engine, idle_s=idle_s, clock=clock))


def _stamp(_dbapi_connection: Any, record: Any, *, clock: Callable[[], float]) -> None:
    if record is not None:
        record.info[RETURNED] = clock()


def _ping_if_idle(engine: Engine, dbapi_connection: Any, record: Any, _proxy: Any, *, idle_s: float,
                  clock: Callable[[], float]) -> None:
    returned = record.info.get(RETURNED)
    if returned is None or clock() - returned < idle_s:
        return  # new, or in use moments ago
    try:
        alive = engine.dialect.do_ping(dbapi_connection)
    except Exception as error:
        raise exc.DisconnectionError("the idle connection did not answer a ping") from error
    if not alive:
        raise exc.DisconnectionError("the idle connection did not answer a ping")
