"""1,000 live subscribers on `serve --workers 2` with the Redis broker: each gets every event, and a worker
holds at most two Redis connections however many subscribers it serves. The delivery time is printed here and
measured by `python -m bench.fanout`, not asserted: this machine is shared."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from collections import Counter
from pathlib import Path

import redis
from websockets.asyncio.client import ClientConnection, connect

from gateway.events.broker import Event
from gateway.events.redis_broker import CHANNEL, CLIENT_NAME, encode
from gateway.store.database import Database
from gateway.store.migrate import migrate
from tests.support.data import Data
from tests.support.workers import workers_serving
from tests.support.ws import PROTOCOL

SUBSCRIBERS = 1000
EVENTS = "subscription { dealEvents { kind deal { id } } }"
WARM_UP_S = 60.0


async def subscriber(url: str, token: str) -> ClientConnection:
    """A graphql-transport-ws connection subscribed to dealEvents."""
    connection = await connect(url, subprotocols=[PROTOCOL], open_timeout=30, max_queue=None)
    await connection.send(json.dumps({"type": "connection_init", "payload": {"token": token}}))
    assert json.loads(await asyncio.wait_for(connection.recv(), 30))["type"] == "connection_ack"
    await connection.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": EVENTS}}))
    return connection


async def kinds_received(connection: ClientConnection, arrivals: dict[int, float], who: int,
                         seen: dict[int, set[str]]) -> None:
    """Note the kind of every event the subscriber gets, and when the measured one arrived."""
    async for raw in connection:
        message = json.loads(raw)
        if message["type"] != "next":
            continue
        kind = message["payload"]["data"]["dealEvents"]["kind"]
        seen.setdefault(who, set()).add(kind)
        if kind == "CLOSED":
            arrivals[who] = time.monotonic()


def publish(client: redis.Redis, kind: str, deal_id: str, actor: str) -> None:
    """An event on the channel, as any replica publishes it after a commit."""
    client.publish(CHANNEL, encode(Event(kind=kind, deal_id=deal_id, actor_user_id=actor,
                                         at=dt.datetime.now(dt.UTC))))


def broker_connections(client: redis.Redis) -> Counter[str]:
    """Redis connections of the gateway's brokers, by process."""
    return Counter(entry["name"] for entry in client.client_list() if entry["name"].startswith(CLIENT_NAME))


async def test_a_thousand_subscribers_on_two_workers_each_get_the_event_over_one_subscription_per_worker(
        database_url: str, tmp_path: Path, unused_tcp_port: int, redis_url: str) -> None:
    store = Database(database_url)
    migrate(store.engine)
    data = Data(store.engine)
    desk = data.user("desk@x.test", "DEAL_DESK")
    deal_id = data.deal(owner=data.user("ann@x.test", "SELLER"), advertiser=data.advertiser("Acme"))
    store.dispose()
    client = redis.Redis.from_url(redis_url)
    served = workers_serving(database_url, tmp_path, unused_tcp_port, "desk@x.test",
                             DEAL_DESK_EVENTS_URL=redis_url, DEAL_DESK_RATE_LIMIT_PER_S="0")
    with served as (url, _metrics, token, workers):
        ws_url = url.replace("http://", "ws://") + "/graphql"
        connections = await asyncio.gather(*(subscriber(ws_url, token) for _ in range(SUBSCRIBERS)))
        arrivals: dict[int, float] = {}
        seen: dict[int, set[str]] = {}
        readers = [asyncio.create_task(kinds_received(c, arrivals, n, seen))
                   for n, c in enumerate(connections)]
        try:
            deadline = time.monotonic() + WARM_UP_S
            while sum("UPDATED" in kinds for kinds in seen.values()) < SUBSCRIBERS:  # all subscribed
                assert time.monotonic() < deadline, f"{len(seen)} of {SUBSCRIBERS} subscribers heard anything"
                publish(client, "UPDATED", deal_id, desk)
                await asyncio.sleep(0.5)
            await asyncio.sleep(1.0)  # the warm-up's last events delivered
            published = time.monotonic()
            publish(client, "CLOSED", deal_id, desk)
            async with asyncio.timeout(30):
                while len(arrivals) < SUBSCRIBERS:
                    await asyncio.sleep(0.05)
            held = broker_connections(client)
        finally:
            for reader in readers:
                reader.cancel()
            await asyncio.gather(*(c.close() for c in connections), return_exceptions=True)

    latencies = sorted(at - published for at in arrivals.values())
    print(f"\n{SUBSCRIBERS} subscribers, 2 workers: p50 {latencies[len(latencies) // 2] * 1000:.0f} ms, "
          f"p95 {latencies[int(len(latencies) * 0.95) - 1] * 1000:.0f} ms; broker connections {dict(held)}")
    assert sorted(arrivals) == list(range(SUBSCRIBERS))  # every subscriber got the event
    assert len(workers) == 2 and set(held) == {f"{CLIENT_NAME}:{pid}" for pid in workers}
    assert max(held.values()) <= 2
