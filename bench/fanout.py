"""Live events to many subscribers: `python -m bench.fanout [--subscribers 1000] [--events 5] [--workers 2]`.

Serves a fresh demo store (`deal-desk seed --scale 1`) with the Redis broker (`--redis`, the local one by
default), opens `--subscribers` graphql-transport-ws connections subscribed to `dealEvents`, then publishes
`--events` events on the broker's channel, as any replica does after a commit, one a second. Prints the
p50, p95 and p99 of the time from publishing an event to its arrival at each subscriber (target: p95 under
1 s at 1,000 subscribers on 2 workers) and the Redis connections each worker holds (target: at most 2).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import aiohttp
import redis

from bench import server
from gateway.events.broker import Event
from gateway.events.redis_broker import CHANNEL, CLIENT_NAME, encode

PROTOCOL = "graphql-transport-ws"
EVENTS = "subscription { dealEvents { kind at deal { id } } }"
WARM_UP_S = 120.0


def parse(argv: list[str]) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.fanout", description=__doc__.split("\n")[0])
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--events", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--json", type=Path, help="also write the results here")
    return parser.parse_args(argv)


class Subscriber:
    """One graphql-transport-ws connection and when each event kind reached it."""

    def __init__(self) -> None:
        self.arrived: dict[float, float] = {}  # the event's `at` (epoch seconds, to the ms) -> arrival
        self.heard = asyncio.Event()

    async def run(self, session: aiohttp.ClientSession, url: str, token: str,
                  handshakes: asyncio.Semaphore) -> None:
        """Connect, subscribe and note arrivals until cancelled."""
        async with handshakes:  # a bounded number of handshakes at a time, as clients arrive
            ws = await session.ws_connect(url, protocols=(PROTOCOL,), max_msg_size=0)
            await ws.send_str(json.dumps({"type": "connection_init", "payload": {"token": token}}))
            await ws.receive_str()  # connection_ack
            await ws.send_str(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": EVENTS}}))
        try:
            async for message in ws:
                body = json.loads(message.data)
                if body["type"] == "next":
                    at = instant(body["payload"]["data"]["dealEvents"]["at"])
                    self.arrived.setdefault(at, time.monotonic())
                    self.heard.set()
        finally:
            await ws.close()


def instant(text: str) -> float:
    """An ISO timestamp as epoch seconds, to the millisecond (the key of one event)."""
    return round(dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp(), 3)


def publish(client: redis.Redis, deal_id: str, actor_id: str, at: dt.datetime) -> None:
    """An UPDATED event on the broker's channel."""
    client.publish(CHANNEL, encode(Event(kind="UPDATED", deal_id=deal_id, actor_user_id=actor_id, at=at)))


def demo_ids(db: Path) -> tuple[str, str]:
    """A deal of the demo store and the deal desk user's id."""
    with sqlite3.connect(db) as connection:
        deal = connection.execute("SELECT id FROM deals ORDER BY created_at LIMIT 1").fetchone()[0]
        desk = connection.execute("SELECT id FROM users WHERE email = 'desk@dealdesk.example'").fetchone()[0]
    return str(deal), str(desk)


async def fan_out(args: argparse.Namespace, tmp: Path) -> dict[str, object]:
    """Subscribe the crowd, publish the events, collect the delivery times."""
    db, key = tmp / "fanout.db", tmp / "devkey.json"
    env = server.environment(db, key) | {"DEAL_DESK_EVENTS_URL": args.redis}
    subprocess.run([str(server.VENV_BIN / "deal-desk"), "seed", "--scale", "1"], env=env, check=True,
                   capture_output=True)
    deal_id, desk_id = demo_ids(db)
    token = server.tokens(env)["desk"]
    client = redis.Redis.from_url(args.redis)
    gateway = server.start(env, tmp / "gateway.log", args.workers)
    crowd = [Subscriber() for _ in range(args.subscribers)]
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0),  # one per subscriber
                                         timeout=aiohttp.ClientTimeout(total=None)) as session:
            url, handshakes = gateway.url.replace("http://", "ws://") + "/graphql", asyncio.Semaphore(64)
            tasks = [asyncio.create_task(s.run(session, url, token, handshakes)) for s in crowd]
            await warm_up(client, crowd, deal_id, desk_id)
            published: dict[float, float] = {}
            for _ in range(args.events):
                at = dt.datetime.now(dt.UTC)
                published[round(at.timestamp(), 3)] = time.monotonic()
                publish(client, deal_id, desk_id, at)
                await asyncio.sleep(1.0)
            await asyncio.sleep(2.0)
            held = Counter(e["name"] for e in client.client_list() if e["name"].startswith(CLIENT_NAME))
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        gateway.stop()
    return figures(crowd, published, held)


async def warm_up(client: redis.Redis, crowd: list[Subscriber], deal_id: str, desk_id: str) -> None:
    """Publish until every subscriber heard an event (all are subscribed), then forget those arrivals."""
    deadline = time.monotonic() + WARM_UP_S
    while not all(s.heard.is_set() for s in crowd):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{sum(s.heard.is_set() for s in crowd)} of {len(crowd)} subscribers heard")
        publish(client, deal_id, desk_id, dt.datetime.now(dt.UTC))
        await asyncio.sleep(0.5)
    await asyncio.sleep(1.0)
    for s in crowd:
        s.arrived.clear()


def figures(crowd: list[Subscriber], published: dict[float, float], held: Counter[str]) -> dict[str, object]:
    """Delivery percentiles over every (event, subscriber), the missed deliveries, the broker connections."""
    delays, missed = [], 0
    for s in crowd:
        for at, sent in published.items():
            if at in s.arrived:
                delays.append(s.arrived[at] - sent)
            else:
                missed += 1
    delays.sort()

    def pct(p: float) -> float:
        return round(delays[min(len(delays) - 1, int(len(delays) * p / 100))] * 1000, 1) if delays else -1.0

    return {"deliveries": len(delays), "missed": missed, "p50_ms": pct(50), "p95_ms": pct(95),
            "p99_ms": pct(99), "redis_connections_per_worker": dict(held)}


def main(argv: list[str] | None = None) -> None:
    """Run the fan-out and print its figures."""
    args = parse(sys.argv[1:] if argv is None else argv)
    with tempfile.TemporaryDirectory(prefix="deal-desk-fanout-") as tmp:
        result = asyncio.run(fan_out(args, Path(tmp)))
    print(f"fan-out: {args.subscribers} subscribers, {args.events} events, {args.workers} workers, "
          "Redis broker")
    print(f"  publish -> subscriber  p50 {result['p50_ms']} ms  p95 {result['p95_ms']} ms  "
          f"p99 {result['p99_ms']} ms  ({result['deliveries']} deliveries, {result['missed']} missed)")
    print(f"  Redis connections per worker: {result['redis_connections_per_worker']} (target: at most 2)")
    if args.json:
        args.json.write_text(json.dumps({"args": vars(args) | {"json": str(args.json)}, **result}, indent=2))


if __name__ == "__main__":
    main()
