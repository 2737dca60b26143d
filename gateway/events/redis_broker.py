"""A broker shared by every replica: deal events as JSON on one Redis pub/sub channel."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import structlog
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from gateway.core.errors import ServiceUnavailable
from gateway.events.broker import Event

log = structlog.get_logger("deal_desk.events")

CHANNEL = "deal-desk:deal-events"
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
    """Publishes to one channel; each subscriber holds its own pub/sub connection until it unsubscribes."""

    def __init__(self, url: str, *, channel: str = CHANNEL, timeout_s: float = TIMEOUT_S) -> None:
        # The timeout bounds publish (a mutation awaits it); pub/sub reads block regardless.
        self.redis: Redis = Redis.from_url(url, socket_connect_timeout=timeout_s, socket_timeout=timeout_s)
        self.channel = channel

    async def publish(self, event: Event) -> None:
        """Publish `event` to every replica's subscribers."""
        try:
            await self.redis.publish(self.channel, encode(event))
        except RedisError as error:
            # Publishing follows a commit: the change stands, only the live update is lost.
            log.warning("deal event not published", kind=event.kind, deal_id=event.deal_id, error=str(error))

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[AsyncIterator[Event]]:
        """Subscribe until the context exits, then close the subscriber's connection."""
        pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        try:
            with _unavailable_on_error():
                await pubsub.subscribe(self.channel)
            yield _events(pubsub)
        finally:
            await pubsub.aclose()

    async def subscribers(self) -> int:
        """How many subscriptions listen on the channel, on every replica."""
        counts = await self.redis.pubsub_numsub(self.channel)
        return int(counts[0][1]) if counts else 0

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self.redis.aclose()


async def _events(pubsub: PubSub) -> AsyncIterator[Event]:
    with _unavailable_on_error():
        async for message in pubsub.listen():
            event = _decoded(message["data"])
            if event is not None:
                yield event


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
