"""CPU per request in process: `python -m bench.cpu [--op NAME] [--requests N] [--clients C] [--callgrind]`.

The app answers ASGI calls straight from this loop (no HTTP client, no server), so the CPU time per
request is the gateway's own. On a shared machine that number moves with the neighbours; under
`valgrind --tool=callgrind --instr-atstart=no` with `--callgrind` the loop switches instruction counting
on around the measured requests only, and the count per request repeats within about 3%:

    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=cg.out \\
        .venv/bin/python -m bench.cpu --work /tmp/work.db --requests 20 --callgrind
    grep ^totals: cg.out     # instructions of the 20 requests

See docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import create_engine

from auth.dev import issue_token
from bench import fixtures
from bench.operations import OPERATIONS, Operation
from bench.server import USERS
from gateway.app import create_app
from gateway.core.roles import Role
from gateway.core.settings import Settings
from gateway.ops.workers import settle_heap
from gateway.store.migrate import migrate

WARMUP = 20


def parse() -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.cpu", description=__doc__.split("\n")[0])
    parser.add_argument("--db", type=Path, default=Path("/tmp/bench84.db"), help="seeded store; copied")
    parser.add_argument("--work", type=Path, help="an existing copy to use (it is written to) instead")
    parser.add_argument("--pg", help="a seeded PostgreSQL database to read instead (as bench.run --peer)")
    reads = [name for name, op in OPERATIONS.items() if not op.writes]
    parser.add_argument("--op", default="dealPage", choices=reads)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--clients", type=int, default=1, help="requests in flight at once")
    parser.add_argument("--callgrind", action="store_true", help="count instructions of the requests only")
    return parser.parse_args()


class Caller:
    """Sends one operation's request to the app as an ASGI call."""

    def __init__(self, app: Any, op: Operation, token: str, body: bytes) -> None:
        self.app, self.op, self.body = app, op, body
        self.headers = [(b"host", b"bench"), (b"content-type", b"application/json"),
                        (b"authorization", f"Bearer {token}".encode()),
                        (b"content-length", str(len(body)).encode())]

    async def call(self) -> bytes:
        """The response body (raises on a status other than 200)."""
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
                 "scheme": "http", "path": "/graphql", "raw_path": b"/graphql", "query_string": b"",
                 "root_path": "", "headers": self.headers, "client": ("127.0.0.1", 1),
                 "server": ("bench", 80)}
        chunks: list[bytes] = []
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                await asyncio.Event().wait()  # the client never disconnects
            sent = True
            return {"type": "http.request", "body": self.body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start" and message["status"] != 200:
                raise RuntimeError(f"{self.op.name} answered {message['status']}")
            chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        return b"".join(chunks)


def counting(on: bool) -> None:
    """Switch callgrind's instruction counting for this process on or off."""
    subprocess.run(["callgrind_control", "-i", "on" if on else "off", str(os.getpid())], check=True,
                   capture_output=True)


async def measure(args: argparse.Namespace, work: Path) -> None:
    """Warm up, then time `args.requests` requests from `args.clients` loops."""
    url = args.pg or f"sqlite:///{work}"
    settings = Settings(database_url=url, dev_key_file=str(work.with_suffix(".key.json")),
                        migrate_on_start=False, rate_limit_per_s=0, log_level="WARNING")
    app = create_app(settings)
    migrate(app.state.db.engine)
    op = OPERATIONS[args.op]
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://")) if args.pg else (
        fixtures.read_only(work))
    ids = fixtures.pick_ids(engine)
    engine.dispose()
    email, role, region = USERS[op.user]
    token = issue_token(settings, email=email, roles=[Role(role)], region=region)
    body = orjson.dumps({"query": op.document, "variables": op.variables(ids, None)})
    caller = Caller(app, op, token, body)
    async with app.router.lifespan_context(app):
        for _ in range(WARMUP):
            await caller.call()
        settle_heap()  # the heap as `deal-desk serve` leaves it
        tickets = iter(range(args.requests))
        if args.callgrind:
            counting(True)
        wall, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(loop(caller, tickets) for _ in range(args.clients)))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        if args.callgrind:
            counting(False)
    print(f"{op.name}: {args.requests} requests, {args.clients} in flight: {args.requests / wall:.1f} req/s, "
          f"CPU {cpu / args.requests * 1000:.2f} ms/request")


async def loop(caller: Caller, tickets: Any) -> None:
    """Send requests until the tickets run out."""
    for _ in tickets:
        await caller.call()


def main() -> None:
    """Measure on the given copy, or on a temporary copy of the seeded store."""
    args = parse()
    if args.work or args.pg:
        asyncio.run(measure(args, args.work or Path(tempfile.gettempdir()) / "deal-desk-cpu-pg"))
        return
    with tempfile.TemporaryDirectory(prefix="deal-desk-cpu-") as tmp:
        work = Path(tmp) / "work.db"
        fixtures.copy_store(args.db, work)
        asyncio.run(measure(args, work))


if __name__ == "__main__":
    main()
