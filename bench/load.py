"""The HTTP load generator: an asyncio pool of httpx clients, bounded in requests and in time."""

from __future__ import annotations

import asyncio
import itertools
import logging
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from bench.operations import Operation, Variables

# httpcore tries `import sniffio` for every lock it makes. Without sniffio installed, each attempt searches
# sys.path again: about 2 ms of the load generator's CPU per request. A None entry fails the import at once.
sys.modules.setdefault("sniffio", None)  # type: ignore[arg-type]


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


def client(url: str, connections: int) -> httpx.AsyncClient:
    """A keep-alive client pool for `connections` concurrent requests."""
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a log line per request costs the load generator
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return httpx.AsyncClient(base_url=url, limits=limits, timeout=httpx.Timeout(300.0))


async def send(http: httpx.AsyncClient, op: Operation, variables: Variables, token: str) -> Sample:
    """One POST /graphql, timed until the whole body has arrived."""
    start = time.perf_counter()
    try:
        response = await http.post("/graphql", json={"query": op.document, "variables": variables},
                                   headers={"authorization": f"Bearer {token}"})
    except httpx.HTTPError:
        return Sample(time.perf_counter() - start, False)
    ok = response.status_code == 200 and b'"errors":' not in response.content
    return Sample(time.perf_counter() - start, ok)


async def sequential(http: httpx.AsyncClient, op: Operation, variables: Callable[[], Variables], token: str,
                     count: int) -> list[Sample]:
    """`count` requests one after the other."""
    return [await send(http, op, variables(), token) for _ in range(count)]


async def concurrent(http: httpx.AsyncClient, op: Operation, variables: Callable[[], Variables], token: str,
                     *, clients: int, requests: int, max_seconds: float) -> Load:
    """`requests` requests from `clients` concurrent loops; a loop starts no request after `max_seconds`.

    Each loop is a client of its own with one keep-alive connection, as separate clients would be. (One
    shared pool of 100 connections scans them all, with a socket check each, for every request: 5-10 ms
    of this process's CPU per request, taken from the gateway on the same cores.)
    """
    tickets, samples = itertools.count(), []
    own_clients = [client(str(http.base_url), 1) for _ in range(clients)]
    start = time.perf_counter()
    deadline = start + max_seconds

    async def loop(own: httpx.AsyncClient) -> None:
        async with own:
            while next(tickets) < requests and time.perf_counter() < deadline:
                samples.append(await send(own, op, variables(), token))

    await asyncio.gather(*(loop(own) for own in own_clients))
    return Load(clients, samples, time.perf_counter() - start)


def median_ms(samples: list[Sample]) -> float:
    """The median latency of `samples` in milliseconds."""
    return statistics.median(sample.seconds for sample in samples) * 1000
