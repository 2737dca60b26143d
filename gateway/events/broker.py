"""Deal events published after commit, and the broker that carries them to subscribers."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

QUEUE_SIZE = 1000


@dataclass(frozen=True)
class Event:
    """Something committed happened to a deal."""

    kind: str
    deal_id: str
    actor_user_id: str
    at: dt.datetime


class Broker(Protocol):
    """Fans committed events out to every subscriber (of this process, or of all replicas)."""

    async def publish(self, event: Event) -> None:
        """Deliver `event` to every current subscriber."""
        ...

    def subscribe(self) -> contextlib.AbstractAsyncContextManager[AsyncIterator[Event]]:
        """A stream of the events published from now on."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...


class LocalBroker:
    """In-process broker: one bounded queue per subscriber; a subscriber too slow to keep up loses events."""

    def __init__(self) -> None:
        self._queues: set[asyncio.Queue[Event | Exception]] = set()

    async def publish(self, event: Event) -> None:
        """Put `event` on every subscriber's queue."""
        for queue in list(self._queues):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(event)

    def fail(self, error: Exception) -> None:
        """End every current subscriber's stream with `error` (what carried the events went away)."""
        for queue in list(self._queues):
            while queue.full():
                queue.get_nowait()
            queue.put_nowait(error)

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[AsyncIterator[Event]]:
        """Subscribe until the context exits."""
        queue: asyncio.Queue[Event | Exception] = asyncio.Queue(QUEUE_SIZE)
        self._queues.add(queue)
        try:
            yield _drain(queue)
        finally:
            self._queues.discard(queue)

    async def subscribers(self) -> int:
        """How many subscriptions are listening."""
        return len(self._queues)

    async def aclose(self) -> None:
        """Nothing to release."""


async def _drain(queue: asyncio.Queue[Event | Exception]) -> AsyncIterator[Event]:
    while True:
        item = await queue.get()
        if isinstance(item, Exception):
            raise item
        yield item
