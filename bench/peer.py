"""Side by side with PostGraphile 4 on one PostgreSQL database: `python -m bench.run --peer postgraphile`.

Both servers read the same database, seeded once at the 7-year volumes (`deal-desk seed --scale 84`) and
reused by later runs. They are loaded one at a time by the same load generator (bench.load): the deal page,
the 50-deal list and the 500-deal export, sequentially and at each client count. Before timing, the bench
checks that both answer with the same rows (the ids of every object, in order). It prints each figure and
the ratio ours / PostGraphile, and the new PostgreSQL sessions each server opened per 1,000 requests.

PostGraphile runs as one Node process with its defaults and no authentication; ours verifies a token on
every request, as it must.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import make_url

from bench import load, server
from bench.load import Load
from bench.operations import OPERATIONS, Ids, Operation, Variables

PEER_DIR = Path(__file__).resolve().parent / "peer"
POSTGRAPHILE = PEER_DIR / "node_modules" / ".bin" / "postgraphile"
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/deal_desk_bench"
SCALE = 84
SEQUENTIAL = 20
WARMUP = 5

DEAL_PAGE = """
query DealPage($id: String!) {
  deal: dealById(id: $id) {
    id dealNumber name status dealType channels region currency totalValue startDate endDate
    targetMarginPct floorCpm nonStandardTerms notes version createdAt updatedAt submittedAt
    owner: userByOwnerId { id email displayName region roles }
    advertiser: advertiserByAdvertiserId { id name industry region }
    agency: agencyByAgencyId { id name holdingCompany region }
    scopingRequest: dealScopingRequestByConvertedDealId {
      id title status estimatedBudget currency requestedBy: userByRequestedBy { id displayName }
    }
    tiers: dealTiersByDealIdList(orderBy: [TIER_NUMBER_ASC]) { id tierNumber minSpend maxSpend cpm marginPct }
    incentives: incentiveValuesByDealIdList(orderBy: [POSITION_ASC]) { id type unit value description }
    approvals: dealApprovalsByDealIdList(orderBy: [ROUND_ASC, SEQUENCE_ASC]) {
      id stage sequence status dueAt decidedAt decidedBy: userByDecidedBy { id displayName }
      actions: approvalActionsByApprovalIdList(orderBy: [CREATED_AT_ASC, ID_ASC]) {
        id action comment createdAt actor: userByActorId { id displayName }
      }
    }
    statusHistory: dealStatusHistoriesByDealIdList(orderBy: [CHANGED_AT_ASC, ID_ASC]) {
      id fromStatus toStatus reason changedAt changedBy: userByChangedBy { id displayName }
    }
  }
}
"""

DEAL_LIST = """
query PipelineList($first: Int!) {
  deals: allDeals(first: $first, orderBy: [CREATED_AT_DESC, ID_DESC]) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node {
      id dealNumber name status dealType region currency totalValue startDate endDate createdAt updatedAt
      owner: userByOwnerId { id displayName }
      advertiser: advertiserByAdvertiserId { id name }
      agency: agencyByAgencyId { id name }
      approvals: dealApprovalsByDealIdList(orderBy: [ROUND_ASC, SEQUENCE_ASC]) { id stage status }
    } }
  }
}
"""

COMPARED = ("dealPage", "dealList50", "dealExport500")
PEER_DOCUMENTS = {"dealPage": DEAL_PAGE, "dealList50": DEAL_LIST, "dealExport500": DEAL_LIST}


@dataclass
class Figures:
    """What one server did for one operation."""

    sequential_p50_ms: float
    loads: dict[int, Load] = field(default_factory=dict)
    new_sessions: dict[int, int] = field(default_factory=dict)  # PostgreSQL sessions opened per phase
    server_cpu_s: dict[int, float] = field(default_factory=dict)


@dataclass
class Server:
    """A server under test: where it listens, its documents and token, its processes."""

    name: str
    url: str
    documents: dict[str, str]
    token: str
    pids: Callable[[], list[int]]
    stop: Callable[[], None]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of the side-by-side run (on bench.run's command line)."""
    parser.add_argument("--peer", choices=["postgraphile"], help="compare with this peer on PostgreSQL")
    parser.add_argument("--pg", default=DEFAULT_URL,
                        help="PostgreSQL database of the side-by-side run (seeded once, then reused)")


def ensure_seeded(url: str) -> None:
    """Create the database if needed and seed it at the 7-year volumes unless it has deals."""
    parsed = make_url(url)
    admin = parsed.set(database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin.replace("postgresql+psycopg", "postgresql"), autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [parsed.database]).fetchone()
        if exists is None:
            connection.execute(f'CREATE DATABASE "{parsed.database}"')
    with psycopg.connect(url) as connection:
        has_table = connection.execute("SELECT to_regclass('deals') IS NOT NULL").fetchone()
        if has_table and has_table[0]:
            deals = connection.execute("SELECT count(*) FROM deals").fetchone()
            if deals and deals[0]:
                return
    print(f"seeding {parsed.database} at --scale {SCALE} (once; later runs reuse it) ...", file=sys.stderr)
    env = {**os.environ, "DEAL_DESK_DATABASE_URL": url}
    subprocess.run([str(server.VENV_BIN / "deal-desk"), "seed", "--scale", str(SCALE)], env=env, check=True)


def install_postgraphile() -> None:
    """`npm ci` in bench/peer when PostGraphile is not installed yet."""
    if not POSTGRAPHILE.exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=PEER_DIR, check=True)


def pick_ids(url: str) -> Ids:
    """The deal with the most approval actions among those with an agency (as bench.fixtures picks it)."""
    with psycopg.connect(url) as connection:
        row = connection.execute(
            "SELECT d.id, d.advertiser_id, d.agency_id"
            " FROM approval_actions a JOIN deals d ON d.id = a.deal_id"
            " WHERE d.agency_id IS NOT NULL GROUP BY d.id, d.advertiser_id, d.agency_id"
            " ORDER BY count(*) DESC, d.id LIMIT 1").fetchone()
    assert row is not None, "the seeded database has no deal with approval actions"
    return Ids(deal=row[0], advertiser=row[1], agency=row[2])


def sessions(url: str) -> int:
    """Sessions PostgreSQL has established to the database so far (pg_stat_database, PostgreSQL 14+)."""
    with psycopg.connect(url, autocommit=True) as connection:
        row = connection.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()"
                                 ).fetchone()
    return int(row[0]) if row else 0


def start_ours(url: str, tmp: Path, workers: int) -> Server:
    """`deal-desk serve --workers N` on the database, with dev auth."""
    env = server.environment(Path("unused"), tmp / "devkey.json")
    env["DEAL_DESK_DATABASE_URL"] = url
    token = server.tokens(env)["desk"]
    gateway = server.start(env, tmp / "gateway.log", workers)
    return Server("ours", gateway.url, {name: OPERATIONS[name].document for name in COMPARED}, token,
                  gateway.pids, gateway.stop)


def start_postgraphile(url: str, tmp: Path) -> Server:
    """PostGraphile 4 as one Node process over the same database, with its defaults."""
    port = server.free_port()
    command = [str(POSTGRAPHILE), "--connection", url, "--schema", "public", "--host", "127.0.0.1",
               "--port", str(port), "--simple-collections", "both", "--disable-query-log",
               "--disable-graphiql"]
    log = tmp / "postgraphile.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + server.START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"postgraphile exited: {log.read_text()[-2000:]}")
        try:
            if httpx.post(f"{base}/graphql", json={"query": "{ __typename }"}, timeout=5).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.2)
    else:
        process.kill()
        raise RuntimeError("postgraphile not ready in time")

    def stop() -> None:
        process.terminate()
        process.wait(30)

    return Server("PostGraphile", base, PEER_DOCUMENTS, "", lambda: [process.pid], stop)


def variables_of(name: str, ids: Ids) -> Variables:
    """The variables of operation `name` (the same for both servers)."""
    return dict(OPERATIONS[name].variables(ids, None))


def row_ids(value: Any) -> Iterator[str]:
    """Every `id` in an answer, depth first in document order."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "id" and isinstance(item, str):
                yield item
            else:
                yield from row_ids(item)
    elif isinstance(value, list):
        for item in value:
            yield from row_ids(item)


def answer(base: str, document: str, variables: Variables, token: str) -> dict[str, Any]:
    """`data` of one request that must succeed."""
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = httpx.post(f"{base}/graphql", json={"query": document, "variables": variables},
                          headers=headers, timeout=120)
    body = response.json()
    if response.status_code != 200 or body.get("errors"):
        raise RuntimeError(f"{base}: {response.status_code} {str(body)[:500]}")
    return dict(body["data"])


def check_same_rows(ours: Server, peer: Server, ids: Ids) -> dict[str, int]:
    """Per operation, the number of rows both servers answered with; fails when the rows differ."""
    counted = {}
    for name in COMPARED:
        variables = variables_of(name, ids)
        mine = list(row_ids(answer(ours.url, ours.documents[name], variables, ours.token)))
        theirs = list(row_ids(answer(peer.url, peer.documents[name], variables, peer.token)))
        if mine != theirs:
            raise SystemExit(
                f"{name}: the servers answered with different rows ({len(mine)} and {len(theirs)})")
        counted[name] = len(mine)
    return counted


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes so far."""
    ticks = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


async def measure(target: Server, name: str, ids: Ids, args: argparse.Namespace) -> Figures:
    """Sequential p50, then one load phase per client count, with its new sessions and server CPU."""
    op = Operation(name, target.documents[name], "desk", lambda _ids, _input: variables_of(name, ids))
    variables = lambda: variables_of(name, ids)  # noqa: E731 - the load generator asks per request
    async with load.client(target.url) as http:
        await load.sequential(http, op, variables, target.token, WARMUP)
        timed = await load.sequential(http, op, variables, target.token, SEQUENTIAL)
    figures = Figures(load.median_ms(timed))
    for clients in args.clients:
        print(f"  {target.name} {name}: {args.requests} requests, {clients} clients", file=sys.stderr)
        before, cpu = sessions(args.pg), cpu_seconds(target.pids())
        outcome = await load.concurrent(target.url, op, variables, target.token, clients=clients,
                                        requests=args.requests, max_seconds=args.max_seconds,
                                        ramp_s=args.ramp_seconds)
        figures.server_cpu_s[clients] = cpu_seconds(target.pids()) - cpu
        figures.new_sessions[clients] = sessions(args.pg) - before - 1  # less this bench's own session
        figures.loads[clients] = outcome
    return figures


def ratio(mine: float, theirs: float) -> str:
    """mine / theirs with two decimals."""
    return f"{mine / theirs:.2f}" if theirs else "n/a"


def report(results: dict[str, dict[str, Figures]], args: argparse.Namespace) -> list[dict[str, Any]]:
    """Print the side-by-side table; return its rows."""
    table = Table("operation", "clients", "figure", "ours", "PostGraphile", "ours / PostGraphile",
                  title=f"PostgreSQL, {args.pg.rsplit('/', 1)[-1]}: ours (--workers {args.workers}) "
                        f"and PostGraphile 4 (one Node process)")
    rows: list[dict[str, Any]] = []

    def add(name: str, clients: int | str, figure: str, mine: float, theirs: float) -> None:
        rows.append({"operation": name, "clients": clients, "figure": figure, "ours": mine,
                     "postgraphile": theirs, "ratio": mine / theirs if theirs else None})
        table.add_row(name, str(clients), figure, f"{mine:,.1f}", f"{theirs:,.1f}", ratio(mine, theirs))

    for name in COMPARED:
        mine, theirs = results["ours"][name], results["PostGraphile"][name]
        add(name, 1, "sequential p50 ms", mine.sequential_p50_ms, theirs.sequential_p50_ms)
        for clients in args.clients:
            a, b = mine.loads[clients], theirs.loads[clients]
            add(name, clients, "p50 ms", a.percentile_ms(50), b.percentile_ms(50))
            add(name, clients, "p95 ms", a.percentile_ms(95), b.percentile_ms(95))
            add(name, clients, "req/s", a.throughput, b.throughput)
            add(name, clients, "errors", a.errors, b.errors)
            add(name, clients, "server CPU ms/req", a.cpu_ms_per_request(mine.server_cpu_s[clients]),
                b.cpu_ms_per_request(theirs.server_cpu_s[clients]))
            add(name, clients, "new PG sessions per 1,000 req",
                mine.new_sessions[clients] * 1000 / max(1, len(a.samples)),
                theirs.new_sessions[clients] * 1000 / max(1, len(b.samples)))
    Console(width=160).print(table)
    return rows


async def compare(args: argparse.Namespace, tmp: Path) -> list[dict[str, Any]]:
    """Seed once, start both, check their rows, then load each in turn."""
    ensure_seeded(args.pg)
    install_postgraphile()
    ids = pick_ids(args.pg)
    ours, peer = start_ours(args.pg, tmp, args.workers), start_postgraphile(args.pg, tmp)
    try:
        counted = check_same_rows(ours, peer, ids)
        print(f"same rows from both: {counted}", file=sys.stderr)
        results = {target.name: {name: await measure(target, name, ids, args) for name in COMPARED}
                   for target in (ours, peer)}
    finally:
        ours.stop()
        peer.stop()
    return report(results, args)


def main(args: argparse.Namespace) -> None:
    """Run the side-by-side benchmark, print it and, with --json, write it."""
    with tempfile.TemporaryDirectory(prefix="deal-desk-peer-") as tmp:
        rows = asyncio.run(compare(args, Path(tmp)))
    if args.json:
        settings = {k: v for k, v in vars(args).items() if k != "ops"}
        document = {"settings": {k: str(v) if isinstance(v, Path) else v for k, v in settings.items()},
                    "machine": {"cpus": os.cpu_count(), "loadavg": os.getloadavg(),
                                "python": platform.python_version(), "platform": platform.platform()},
                    "rows": rows}
        args.json.write_text(json.dumps(document, indent=2, default=str) + "\n")

