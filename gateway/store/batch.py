"""Writes that arrive together are made together: one transaction for many small writes of one kind.

A thousand users signing in at once would each wait their turn for SQLite's one writer (and cost PostgreSQL
a thousand commits). As in a group commit, what arrives while a batch is being written waits for it and is
written next, all together: one call of `write_all(connection, items=...)` in one transaction (at most
`max_size` items), each caller answered with its own result. An item arriving when nothing is being written
waits at most `window_s` for company.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from sqlalchemy import Connection

from gateway.store.database import Database

I = TypeVar("I")  # noqa: E741
R = TypeVar("R")

class WriteBatch(Generic[I, R]):
    """Coalesces `submit` calls into `write_all` calls, each in one transaction."""

    def __init__(self, db: Database, write_all: Callable[..., Sequence[R]], *, window_s: float = 0.005,
                 max_size: int = 200) -> None:
        self.db, self.write_all, self.window_s, self.max_size = db, write_all, window_s, max_size
        self._pending: list[tuple[I, asyncio.Future[R]]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._flushing: set[asyncio.Task[None]] = set()

    async def submit(self, item: I) -> R:
        """Write `item` with the others of its batch; its own result, or the batch's error."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[R] = loop.create_future()
        self._pending.append((item, future))
        if not self._flushing and self._timer is None:
            self._timer = loop.call_later(self.window_s, self._flush)
        return await future

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, self._pending = self._pending[:self.max_size], self._pending[self.max_size:]
        if batch:
            task = asyncio.get_running_loop().create_task(self._write(batch))
            self._flushing.add(task)  # held until done: the loop keeps only weak references
            task.add_done_callback(self._done)

    async def _write(self, batch: list[tuple[I, asyncio.Future[R]]]) -> None:
        try:
            results = await self.db.write(self._write_all, [item for item, _ in batch])
        except Exception as error:  # each caller sees it (a user sync retries once)
            for _, future in batch:
                if not future.done():
                    future.set_exception(error)
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._flushing.discard(task)
        if self._pending and not self._flushing:
            self._flush()  # what arrived during the write

    def _write_all(self, connection: Connection, items: list[I]) -> Sequence[R]:
        return self.write_all(connection, items=items)
