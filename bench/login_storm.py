"""The Monday-morning case: `python -m bench.login_storm [--users 1000] [--workers 2] [--db PATH]`.

`--users` callers all send their first request at the same moment (each on its own connection, opened
beforehand), first as new users (no users row yet), then the same crowd again as known users. Prints the
p50, p95 and p99 of both and the ratio of the p95s (target: new at most 3x known). The store is a copy of
--db (the 7-year bench store by default) or, when it does not exist, a fresh migrated one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from auth.dev import issue_token
from bench import fixtures, server
from bench.load import Load, Sample
from gateway.core.roles import Role
from gateway.core.settings import Settings

ME = b'{"query": "{ me { id email } }"}'


def parse(argv: list[str]) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.login_storm", description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--db", type=Path, default=Path("/tmp/bench84.db"), help="store to copy, if present")
    parser.add_argument("--json", type=Path, help="also write the results here")
    return parser.parse_args(argv)


async def crowd(url: str, tokens: list[str]) -> Load:
    """Every token's request at once, each from a client connected beforehand (GET /healthz, untimed)."""
    connected, samples = asyncio.Barrier(len(tokens) + 1), list[Sample]()

    async def one(token: str) -> None:
        async with aiohttp.ClientSession(url, connector=aiohttp.TCPConnector(limit=1),
                                         timeout=aiohttp.ClientTimeout(total=120)) as http:
            async with http.get("/healthz") as response:
                await response.read()
            await connected.wait()
            headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
            start = time.perf_counter()
            try:
                async with http.post("/graphql", data=ME, headers=headers) as response:
                    body = await response.read()
                ok = response.status == 200 and b'"errors":' not in body
            except (aiohttp.ClientError, TimeoutError):
                ok = False
            samples.append(Sample(time.perf_counter() - start, ok))

    started = asyncio.gather(*(one(token) for token in tokens))
    await connected.wait()
    begin = time.perf_counter()
    await started
    return Load(len(tokens), samples, time.perf_counter() - begin)


async def storm(args: argparse.Namespace, tmp: Path) -> dict[str, Load]:
    """New users' first requests, then the same users' requests once known."""
    work, key = tmp / "work.db", tmp / "devkey.json"
    if args.db.exists():
        fixtures.copy_store(args.db, work)
    env = server.environment(work, key)
    settings = Settings(database_url=env["DEAL_DESK_DATABASE_URL"], dev_key_file=str(key),
                        _env_file=None)  # type: ignore[call-arg]
    gateway = server.start(env, tmp / "gateway.log", args.workers)
    try:
        stamp = int(time.time())
        tokens = [issue_token(settings, email=f"storm{stamp}.{n}@dealdesk.example", roles=[Role.SELLER],
                              region="NA") for n in range(args.users)]
        new = await crowd(gateway.url, tokens)
        known = await crowd(gateway.url, tokens)
    finally:
        gateway.stop()
    return {"new users' first request": new, "known users' request": known}


def main(argv: list[str] | None = None) -> None:
    """Run the storm and print its figures."""
    args = parse(sys.argv[1:] if argv is None else argv)
    with tempfile.TemporaryDirectory(prefix="deal-desk-storm-") as tmp:
        loads = asyncio.run(storm(args, Path(tmp)))
    figures = {name: {"p50_ms": load.percentile_ms(50), "p95_ms": load.percentile_ms(95),
                      "p99_ms": load.percentile_ms(99), "errors": load.errors}
               for name, load in loads.items()}
    print(f"login storm: {args.users} users at once, {args.workers} workers")
    for name, row in figures.items():
        print(f"  {name:28} p50 {row['p50_ms']:7.1f} ms  p95 {row['p95_ms']:7.1f} ms  "
              f"p99 {row['p99_ms']:7.1f} ms  errors {row['errors']}")
    new, known = figures.values()
    ratio = new["p95_ms"] / known["p95_ms"]
    print(f"  new / known at p95: {ratio:.2f} (target: at most 3)")
    if args.json:
        args.json.write_text(json.dumps({"users": args.users, "workers": args.workers, "figures": figures,
                                         "p95_ratio": ratio}, indent=2))


if __name__ == "__main__":
    main()
