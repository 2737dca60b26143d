"""One request's transaction: every read and write of the request, and what it records about itself (its
idempotency claim and answer), commit together or not at all.

While a unit is current (a context variable, so the request's tasks share it), the store runs every call of
the request on the unit's connection, one at a time; a write runs in a savepoint, so a failed mutation
writes nothing and the request goes on. A crash before `commit` leaves nothing behind. Work that must only
happen once the writes are durable (publishing deal events) waits in `after_commit`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from functools import partial
from typing import Any, TypeVar

import anyio.to_thread
from sqlalchemy import Connection, Engine

T = TypeVar("T")

current: ContextVar[Unit | None] = ContextVar("deal_desk_unit", default=None)


class Unit:
    """An open transaction on one connection, shared by the calls of one request."""

    def __init__(self, engine: Engine, connection: Connection) -> None:
        self.engine, self.connection = engine, connection
        self.open = True
        self._lock = asyncio.Lock()
        self._after: list[Callable[[], Awaitable[None]]] = []

    async def run(self, fn: Callable[..., T], *args: Any, write: bool, **kwargs: Any) -> T:
        """`fn(connection, ...)` on the unit's connection, a write in its own savepoint."""
        async with self._lock:
            return await anyio.to_thread.run_sync(partial(self._run, fn, args, kwargs, write))

    def _run(self, fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any], write: bool) -> T:
        if not write:
            return fn(self.connection, *args, **kwargs)
        with self.connection.begin_nested():
            return fn(self.connection, *args, **kwargs)

    def after_commit(self, callback: Callable[[], Awaitable[None]]) -> None:
        """Run `callback` once the unit has committed (never, when it rolls back)."""
        self._after.append(callback)

    async def commit(self) -> None:
        """Make every write of the unit durable, then run what waited for it."""
        async with self._lock:
            await anyio.to_thread.run_sync(self.connection.commit)
            self.open = False
        callbacks, self._after = self._after, []
        for callback in callbacks:
            await callback()

    def close(self) -> None:
        """Roll back what was not committed and return the connection to the pool."""
        self.open = False
        self._after.clear()
        self.connection.close()


def active(engine: Engine) -> Unit | None:
    """The current unit on `engine`, if one is open."""
    unit = current.get()
    return unit if unit is not None and unit.open and unit.engine is engine else None
