"""A short-lived cache of reference rows by id (advertisers, agencies, users) that writes invalidate.

One cache per app, attached to its store's engine: `changed` (called by every Writer change) finds
it from the connection and drops the row at once, and again when the connection returns to the pool,
after its transaction has ended. A value is stored only when no change happened since its read began,
so a read racing a write cannot put the old row back. Other processes (workers, replicas) keep their
own caches: there, a change shows once the entry expires (`reference_cache_s`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Engine, event

TABLES = frozenset({"advertisers", "agencies", "users"})
LIMIT = 20_000  # entries; past this the cache starts again empty (the spec has ~3,000 reference rows)
PENDING = "deal_desk_reference_changes"  # connection.info: (cache, row) changed while it is checked out

Key = tuple[str, str]


class ReferenceCache:
    """Values by (table, id), each kept for `ttl_s` seconds or until a change to its row."""

    def __init__(self, ttl_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s, self.clock = ttl_s, clock
        self._entries: dict[Key, tuple[Any, float]] = {}
        self._lock = threading.Lock()
        self.generation = 0  # counts changes; a read started before one may not store its values

    def get(self, table: str, row_id: str) -> Any | None:
        """The cached value of a row, or None when absent or expired."""
        entry = self._entries.get((table, row_id))
        if entry is None or self.clock() >= entry[1]:
            return None
        return entry[0]

    def put(self, table: str, row_id: str, value: Any, generation: int) -> None:
        """Keep `value`, read when `generation` was current, unless a row has changed since."""
        with self._lock:
            if generation != self.generation:
                return
            if len(self._entries) >= LIMIT:
                self._entries.clear()
            self._entries[(table, row_id)] = (value, self.clock() + self.ttl_s)

    def invalidate(self, keys: set[Key] | frozenset[Key]) -> None:
        """Forget these rows, and keep reads already under way from storing what they found."""
        with self._lock:
            self.generation += 1
            for key in keys:
                self._entries.pop(key, None)


_CACHES: WeakKeyDictionary[Engine, ReferenceCache] = WeakKeyDictionary()


def attach(engine: Engine, cache: ReferenceCache) -> ReferenceCache:
    """Make writes through `engine` invalidate `cache`; returns the cache."""
    _CACHES[engine] = cache
    if not event.contains(engine, "checkin", _after_transaction):
        event.listen(engine, "checkin", _after_transaction)
    return cache


def for_store(engine: Engine, ttl_s: float) -> ReferenceCache | None:
    """A new cache for one app's store, attached to its engine; None when `ttl_s` is 0 (switched off)."""
    return attach(engine, ReferenceCache(ttl_s)) if ttl_s > 0 else None


def cache_of(engine: Engine) -> ReferenceCache | None:
    """The cache attached to `engine`, if any."""
    return _CACHES.get(engine)


def changed(connection: Connection, table: str, row_id: str) -> None:
    """A row was inserted, updated or deleted through `connection`: drop it from the store's cache."""
    if table not in TABLES:
        return
    engine = getattr(connection, "engine", None)  # statement recorders in tests have none
    cache = _CACHES.get(engine) if isinstance(engine, Engine) else None
    if cache is None:
        return
    cache.invalidate({(table, row_id)})
    connection.info.setdefault(PENDING, []).append((cache, (table, row_id)))


def _after_transaction(_dbapi_connection: Any, record: Any) -> None:
    # Checked in after commit or rollback: drop again what a read may have put back meanwhile.
    for cache, key in record.info.pop(PENDING, ()):
        cache.invalidate({key})
