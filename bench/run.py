"""Benchmark the gateway: `python -m bench.run [--db PATH] [--clients N[,N...]] [--requests N] ...`.

Phase 1 (in process, no server): per operation the statements of one request, its sequential round
trips and the floor of its SQL run without GraphQL; the 500-deal export's time split.
Phase 2 (a `deal-desk serve` subprocess): statements per request from /metrics, sequential latency,
then latency percentiles, throughput and peak RSS under N concurrent HTTP clients.
See docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import gc
import itertools
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp

from bench import fixtures, load, peer, probe, server
from bench.fixtures import Feed
from bench.operations import CREATE_DEAL, OPERATIONS, SUBMIT_DEAL, Ids, Operation, Variables, deal_input
from bench.probe import InProcess, Probe, Split
from bench.report import Result, print_results, write_json
from gateway.store import engine as engines

WARMUP = 3
PROBE_INPUTS = 10  # inputs one in-process probe of a write consumes


def parse(argv: list[str]) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--db", type=Path, default=Path("/tmp/bench84.db"),
                        help="seeded SQLite store (deal-desk seed --scale 84); copied, never changed")
    parser.add_argument("--clients", default="10", help="concurrent clients; 1,10,100 runs 3 phases")
    parser.add_argument("--requests", type=int, default=200, help="requests per load phase")
    parser.add_argument("--max-seconds", type=float, default=60, help="time limit of one load phase")
    parser.add_argument("--ramp-seconds", type=float, default=2.0,
                        help="clients connect one after another over this long before a load phase")
    parser.add_argument("--sequential", type=int, default=10, help="sequential requests for 'seq p50 ms'")
    parser.add_argument("--warehouse-latency-ms", type=float, default=0,
                        help="the served gateway sleeps this long before every SQL statement")
    parser.add_argument("--workers", type=int, default=1, help="gateway worker processes (serve --workers)")
    parser.add_argument("--ops", default=",".join(OPERATIONS), help=f"subset of {','.join(OPERATIONS)}")
    parser.add_argument("--json", type=Path, help="also write the results here")
    peer.add_arguments(parser)
    args = parser.parse_args(argv)
    args.clients = [int(n) for n in args.clients.split(",")]
    args.ops = [OPERATIONS[name] for name in args.ops.split(",")]
    return args


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and report it."""
    args = parse(sys.argv[1:] if argv is None else argv)
    if args.peer:
        peer.main(args)
        return
    loadavg_at_start = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="deal-desk-bench-") as tmp:
        results, split = asyncio.run(bench(args, Path(tmp)))
    latency = f", warehouse latency {args.warehouse_latency_ms:g} ms" if args.warehouse_latency_ms else ""
    workers = f", {args.workers} workers" if args.workers > 1 else ""
    title = f"Deal Desk gateway: {args.db.name}, {args.requests} requests/phase{workers}{latency}"
    print_results(results, split, title)
    if args.json:
        settings = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items() if k != "ops"}
        settings.update(ops=[op.name for op in args.ops], loadavg_at_start=loadavg_at_start)
        write_json(args.json, results, split, settings)


async def bench(args: argparse.Namespace, tmp: Path) -> tuple[list[Result], Split | None]:
    """Both phases on a private copy of the store."""
    work, key = tmp / "work.db", tmp / "devkey.json"
    print(f"copying {args.db} to {work} ...", file=sys.stderr)
    fixtures.copy_store(args.db, work)
    env = server.environment(work, key, args.warehouse_latency_ms)
    app = InProcess(work, key, server.tokens(env))
    try:
        ids, feeds = inputs(work, app)
        probes, split = await in_process(app, args.ops, ids, feeds, tmp)
        return await served(args, env, tmp, app.tokens, ids, feeds, probes), split
    finally:
        await app.aclose()


def inputs(work: Path, app: InProcess) -> tuple[Ids, dict[str, Feed]]:
    """Real ids, and the feeds of what each operation's requests consume.

    Drafts and PENDING approvals are made through the API (the seller creates and submits deals
    under 100k: one SALES_MANAGER stage), so every request of a write takes the same path.
    """
    engine = fixtures.read_only(work)
    ids = fixtures.pick_ids(engine)
    engine.dispose()
    feeds = {
        "draft": Feed(make=lambda n: new_draft(app, ids, n)),
        "pending": Feed(make=lambda n: new_pending(app, ids, n)),
        "counter": Feed(endless=itertools.count()),
        "none": Feed(endless=itertools.repeat(None)),
        "deals": Feed(endless=itertools.cycle(ids.sample)),
    }
    return ids, feeds


def feed_of(op: Operation, feeds: dict[str, Feed]) -> Feed:
    """The feed of `op`: prepared inputs, a counter (createDeal) or nothing (reads)."""
    return feeds[op.needs or ("counter" if op.writes else "none")]


def variables_of(op: Operation, ids: Ids, feeds: dict[str, Feed]) -> Callable[[], Variables]:
    """A source of the variables of `op`'s next request."""
    feed = feed_of(op, feeds)
    return lambda: op.variables(ids, feed.take())


async def new_draft(app: InProcess, ids: Ids, number: int) -> tuple[str, int]:
    """(id, version) of a new DRAFT deal of the seller."""
    deal = (await app.post(CREATE_DEAL, deal_input(ids, 1_000_000 + number), "seller"))["createDeal"]
    return deal["id"], deal["version"]


async def new_pending(app: InProcess, ids: Ids, number: int) -> str:
    """A new PENDING SALES_MANAGER approval: a new deal of the seller, submitted."""
    deal_id, version = await new_draft(app, ids, number)
    deal = (await app.post(SUBMIT_DEAL, {"id": deal_id, "version": version}, "seller"))["submitDeal"]
    return str(next(a["id"] for a in deal["approvals"] if a["status"] == "PENDING"))


async def in_process(app: InProcess, ops: list[Operation], ids: Ids, feeds: dict[str, Feed],
                     tmp: Path) -> tuple[dict[str, Probe], Split | None]:
    """Phase 1. Writes replay their SQL on a copy taken after their inputs were prepared."""
    print("phase 1: in-process probes ...", file=sys.stderr)
    for op in ops:
        await feed_of(op, feeds).ensure(PROBE_INPUTS)
    floor_engine = app.app.state.db.engine
    if any(op.writes for op in ops):
        fixtures.copy_store(tmp / "work.db", tmp / "floor.db", check=False)
        floor_engine = engines.create(f"sqlite:///{tmp / 'floor.db'}")
    probes = {op.name: await probe.probe(app, op, variables_of(op, ids, feeds), floor_engine) for op in ops}
    if floor_engine is not app.app.state.db.engine:
        floor_engine.dispose()
    export = OPERATIONS["dealExport500"]
    split = await probe.split(app, export, export.variables(ids, None)) if export in ops else None
    return probes, split


async def served(args: argparse.Namespace, env: dict[str, str], tmp: Path, tokens: dict[str, str], ids: Ids,
                 feeds: dict[str, Feed], probes: dict[str, Probe]) -> list[Result]:
    """Phase 2: every operation against the served gateway."""
    print("phase 2: served gateway ...", file=sys.stderr)
    gc.collect()  # phase 1 left a large heap here: keep the load generator's collections off it
    gc.freeze()
    gateway = server.start(env, tmp / "gateway.log", args.workers)
    try:
        async with load.client(gateway.url) as http:
            return [await measure(args, gateway, http, op, tokens[op.user], ids, feeds, probes[op.name])
                    for op in args.ops]
    finally:
        gateway.stop()


async def measure(args: argparse.Namespace, gateway: server.Gateway, http: aiohttp.ClientSession,
                  op: Operation, token: str, ids: Ids, feeds: dict[str, Feed], found: Probe) -> Result:
    """Statements and sequential latency, then one load phase per client count."""
    feed, variables = feed_of(op, feeds), variables_of(op, ids, feeds)
    await feed.ensure(WARMUP + 1 + args.sequential)
    await load.sequential(http, op, variables, token, WARMUP)
    before = gateway.statements()
    checked = await load.sequential(http, op, variables, token, 1)
    statements = gateway.statements() - before
    timed = await load.sequential(http, op, variables, token, args.sequential)
    if not all(sample.ok for sample in checked + timed):
        print(f"warning: {op.name} answered with errors", file=sys.stderr)
    result = Result(op.name, op.description, statements, load.median_ms(timed), found)
    for clients in args.clients:
        await feed.ensure(args.requests)
        print(f"  {op.name}: {args.requests} requests, {clients} clients", file=sys.stderr)
        gateway.reset_peak_memory()
        server_cpu, client_cpu = gateway.cpu_seconds(), time.process_time()
        outcome = await load.concurrent(gateway.url, op, variables, token, clients=clients,
                                        requests=args.requests, max_seconds=args.max_seconds,
                                        ramp_s=args.ramp_seconds)
        outcome = dataclasses.replace(outcome, server_cpu_s=gateway.cpu_seconds() - server_cpu,
                                      client_cpu_s=time.process_time() - client_cpu)
        result.loads.append((outcome, gateway.memory_mb()))
    return result


if __name__ == "__main__":
    main()
