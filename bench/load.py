"""The HTTP load generator: an asyncio pool of httpx clients, bounded in requests and in time."""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

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

    @property
    def errors(self) -> int:
        """Failed requests."""
        return sum(not sample.ok for sample in self.samples)

    @property
    def throughput(self) -> float:
        """Completed requests per second."""
        return len(self.samples) / self.wall_s if self.wall_s else 0.0

    def percentile_ms(self, p: int) -> float:
        """The p-th percentile latency in milliseconds (nearest rank on the sorted samples)."""
        ordered = sorted(sample.seconds for sample in self.samples)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))] * 1000


def client(url: str, connections: int) -> httpx.AsyncClient:
    """A keep-alive client pool for `connections` concurrent requests."""
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
    """`requests` requests from `clients` concurrent loops; a loop starts no request after `max_seconds`."""
    tickets, samples = itertools.count(), []
    start = time.perf_counter()
    deadline = start + max_seconds

    async def loop() -> None:
        while next(tickets) < requests and time.perf_counter() < deadline:
            samples.append(await send(http, op, variables(), token))

    await asyncio.gather(*(loop() for _ in range(clients)))
    return Load(clients, samples, time.perf_counter() - start)


def median_ms(samples: list[Sample]) -> float:
    """The median latency of `samples` in milliseconds."""
    return statistics.median(sample.seconds for sample in samples) * 1000
