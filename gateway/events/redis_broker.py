"""A broker shared by every replica: deal events as JSON on one Redis pub/sub channel.

Each process holds one subscription to the channel, whatever its number of subscribers, and fans the events
out to them in memory; a publish is one more connection from the pool. So a worker needs two Redis
connections for any number of live subscriptions.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
from collections.abc import AsyncIterator, Iterator
from typing import Any

import structlog
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from gateway.core.errors import ServiceUnavailable
from gateway.events.broker import Event, LocalBroker

log = structlog.get_logger("deal_desk.events")

CHANNEL = "deal-desk:deal-events"
CLIENT_NAME = "deal-desk-events"  # and the process id: CLIENT LIST shows each process's connections
TIMEOUT_S = 5.0


def encode(event: Event) -> str:
    """`event` as the JSON text published on the channel."""
    return json.dumps({"kind": event.kind, "deal_id": event.deal_id,
                       "actor_user_id": event.actor_user_id, "at": event.at.isoformat()})


def decode(data: bytes | str) -> Event:
    """The event of one channel message; ValueError, KeyError or TypeError when it is not one."""
    fields: dict[str, Any] = json.loads(data)
    return Event(kind=str(fields["kind"]), deal_id=str(fields["deal_id"]),
                     actor_user_id=str(fields["actor_user_id"]), at=dt.datetime.fromisoformat(fields["at"]))


class RedisBroker:
    """Publishes to one channel; each process holds one subscription to it, fanned out to its subscribers."""

    def __init__(self, url: str, *, channel: str = CHANNEL, timeout_s: float = TIMEOUT_S) -> None:
        # The timeout bounds publish (a mutation awaits it); the pub/sub read blocks regardless.
        self.redis: Redis = Redis.from_url(url, socket_connect_timeout=timeout_s, socket_timeout=timeout_s,
                                           client_name=f"{CLIENT_NAME}:{os.getpid()}")
        self.channel = channel
        self.local = LocalBroker()
        self._reader: asyncio.Task[None] | None = None
        self._starting = asyncio.Lock()

    async def publish(self, event: Event) -> None:
        """Publish `event` to every replica's subscribers."""
        try:
            await self.redis.publish(self.channel, encode(event))
        except RedisError as error:
            # Publishing follows a commit: the change stands, only the live update is lost.
            log.warning("deal event not published", kind=event.kind, deal_id=event.deal_id, error=str(error))

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[AsyncIterator[Event]]:
        """Subscribe until the context exits; SERVICE_UNAVAILABLE when the channel cannot be listened to."""
        await self._listening()
        async with self.local.subscribe() as events:
            yield events

    async def subscribers(self) -> int:
        """How many subscriptions this process serves."""
        return await self.local.subscribers()

    async def aclose(self) -> None:
        """Stop listening and close the connection pool."""
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        await self.redis.aclose()

    async def _listening(self) -> None:
        """Make sure this process's one subscription to the channel is up (its first subscriber starts it)."""
        async with self._starting:
            if self._reader is not None and not self._reader.done():
                return
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                with _unavailable_on_error():
                    await pubsub.subscribe(self.channel)
            except BaseException:
                await pubsub.aclose()
                raise
            self._reader = asyncio.create_task(self._read(pubsub), name="deal-events-reader")

    async def _read(self, pubsub: PubSub) -> None:
        try:
            async for message in pubsub.listen():
                event = _decoded(message["data"])
                if event is not None:
                    await self.local.publish(event)
        except RedisError as error:
            log.warning("deal-events channel unavailable", error=str(error))
            self.local.fail(ServiceUnavailable("Live deal events are unavailable; subscribe again later."))
        finally:
            await pubsub.aclose()


@contextlib.contextmanager
def _unavailable_on_error() -> Iterator[None]:
    # The subscriber sees SERVICE_UNAVAILABLE (and may subscribe again), not an internal error.
    try:
        yield
    except RedisError as error:
        log.warning("deal-events channel unavailable", error=str(error))
        raise ServiceUnavailable("Live deal events are unavailable; subscribe again later.") from error


def _decoded(data: bytes | str) -> Event | None:
    try:
        return decode(data)
    except (ValueError, KeyError, TypeError):
        log.warning("ignored a malformed message on the deal-events channel")
        return None
