"""The HTTP load generator: asyncio loops of aiohttp clients, bounded in requests and in time.

aiohttp, not httpx: the load generator shares the gateway's two cores, and per deal page httpx took about
2 ms of CPU here, aiohttp about 0.4 ms (docs/performance.md).
"""

from __future__ import annotations

import asyncio
import itertools
import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp
import orjson

from bench.operations import Operation, Variables


@dataclass(frozen=True)
class Sample:
    """One request: its latency and whether it succeeded (HTTP 200, no GraphQL errors)."""

    seconds: float
    ok: bool


@dataclass(frozen=True)
class Load:
    """The outcome of one load phase."""

    clients: int
    samples: list[Sample]
    wall_s: float
    server_cpu_s: float = 0.0  # CPU time of the gateway (all its workers) during the phase
    client_cpu_s: float = 0.0  # CPU time of this load generator during the phase (same machine)

    @property
    def errors(self) -> int:
        """Failed requests."""
        return sum(not sample.ok for sample in self.samples)

    @property
    def throughput(self) -> float:
        """Completed requests per second."""
        return len(self.samples) / self.wall_s if self.wall_s else 0.0

    def cpu_ms_per_request(self, seconds: float) -> float:
        """CPU milliseconds per completed request."""
        return seconds / len(self.samples) * 1000 if self.samples else float("nan")

    def percentile_ms(self, p: int) -> float:
        """The p-th percentile latency in milliseconds (nearest rank on the sorted samples)."""
        ordered = sorted(sample.seconds for sample in self.samples)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))] * 1000


def client(url: str) -> aiohttp.ClientSession:
    """A client with one keep-alive connection, as one user's browser or app would hold."""
    return aiohttp.ClientSession(url, connector=aiohttp.TCPConnector(limit=1),
                                 timeout=aiohttp.ClientTimeout(total=300))


async def send(http: aiohttp.ClientSession, op: Operation, variables: Variables, token: str) -> Sample:
    """One POST /graphql, timed until the whole body has arrived."""
    body = orjson.dumps({"query": op.document, "variables": variables})
    headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    start = time.perf_counter()
    try:
        async with http.post("/graphql", data=body, headers=headers) as response:
            content = await response.read()
    except (aiohttp.ClientError, TimeoutError):
        return Sample(time.perf_counter() - start, False)
    ok = response.status == 200 and b'"errors":' not in content
    return Sample(time.perf_counter() - start, ok)


async def sequential(http: aiohttp.ClientSession, op: Operation, variables: Callable[[], Variables],
                     token: str, count: int) -> list[Sample]:
    """`count` requests one after the other."""
    return [await send(http, op, variables(), token) for _ in range(count)]


async def concurrent(url: str, op: Operation, variables: Callable[[], Variables], token: str, *,
                     clients: int, requests: int, max_seconds: float, ramp_s: float = 0.0) -> Load:
    """`requests` requests from `clients` concurrent loops; a loop starts no request after `max_seconds`.

    Each loop is a client of its own with one keep-alive connection, as separate clients would be. The
    clients connect one after another over `ramp_s` seconds (GET /healthz, untimed), and the timed requests
    start once all are connected: 100 connections opened in the same millisecond are mostly accepted by
    whichever worker wakes first (75 of 100 on one of two workers, seen here), users arriving over a
    second or two spread evenly over the workers (docs/performance.md).
    """
    tickets, samples, connected = itertools.count(), list[Sample](), asyncio.Barrier(clients + 1)
    deadline = [math.inf]  # set when the barrier opens

    async def loop(index: int) -> None:
        await asyncio.sleep(ramp_s * index / clients)
        async with client(url) as own:
            async with own.get("/healthz") as response:
                await response.read()
            await connected.wait()
            while next(tickets) < requests and time.perf_counter() < deadline[0]:
                samples.append(await send(own, op, variables(), token))

    loops = asyncio.gather(*(loop(index) for index in range(clients)))
    await connected.wait()
    start = time.perf_counter()
    deadline[0] = start + max_seconds
    await loops
    return Load(clients, samples, time.perf_counter() - start)


def median_ms(samples: list[Sample]) -> float:
    """The median latency of `samples` in milliseconds."""
    return statistics.median(sample.seconds for sample in samples) * 1000
