"""How many store calls run at once in worker threads: few for a local SQLite file, many for a remote store.

`Database.read` and `.write` run in anyio's default worker threads (40 by default). A SQLite statement
takes well under a millisecond, so beyond a few threads more of them only contend for the GIL: with 50
deal pages in flight, 8 threads used about 15% less CPU per page than 40. PostgreSQL nearby answers in a
fraction of a millisecond too: 40 threads (and the pool churn they caused) made a deal page 2x slower than
10 did (docs/performance.md). A warehouse holds a thread for each 100 ms round trip and needs them all.
"""

from __future__ import annotations

import anyio.to_thread

from gateway.core.settings import Settings

LOCAL = 8  # SQLite: lists, aggregates and writes (its key lookups run in place, gateway/store/database.py)
NEARBY = 16  # PostgreSQL: round trips of well under a millisecond; more threads only contend for the GIL
REMOTE = 40  # anyio's default: Databricks, 100 ms or more per round trip
BY_DIALECT = {"sqlite": LOCAL, "postgresql": NEARBY}


def count(settings: Settings | None, dialect: str) -> int:
    """DEAL_DESK_STORE_THREADS when set, else a number suited to the store."""
    if settings is not None and settings.store_threads is not None:
        return settings.store_threads
    return BY_DIALECT.get(dialect, REMOTE)


def limit(settings: Settings, dialect: str) -> None:
    """Size the running event loop's default thread limiter (call it on the serving loop, at startup)."""
    anyio.to_thread.current_default_thread_limiter().total_tokens = count(settings, dialect)
