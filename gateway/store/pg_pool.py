"""PostgreSQL's pool, sized to the store's threads: connections are reused, not opened and closed per request.

A store call holds a connection only while it runs in its worker thread, so at most `threads` calls hold one
at once; a mutation's unit (gateway/store/unit.py) also holds one across its awaits. SQLAlchemy's default
pool of 5 (10 here before) plus overflow closed a connection whenever more than that were back in the pool,
so 40 threads made PostgreSQL open about one new session per deal page. The pool keeps what the threads and
the units can use, hands out the most recently used connection first (LIFO: the busy ones stay warm, the
rest sit idle), pings only a connection that sat idle (gateway/store/idle_ping.py), and bounds the wait for
one by the statement timeout.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gateway.store import threads

if TYPE_CHECKING:
    from gateway.core.settings import Settings

UNITS = 8  # mutations in flight in one process that hold a connection beyond the threads' own
IDLE_PING_S = 1.0  # a connection back in the pool this long is pinged before use; a busy one is alive


def options(settings: Settings | None, timeout_s: float) -> dict[str, Any]:
    """`create_engine` options of a PostgreSQL pool for this process's store threads."""
    size = threads.count(settings, "postgresql") + UNITS
    return {"pool_size": size, "max_overflow": size, "pool_timeout": timeout_s, "pool_use_lifo": True,
            "pool_pre_ping": False}
