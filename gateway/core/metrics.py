"""Prometheus metrics of the GraphQL endpoint and the store's connection pools."""

from __future__ import annotations

import time
import weakref
from collections.abc import Iterator

from prometheus_client import REGISTRY, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.core.exchange import StatusRecorder, operation_of

NO_OPERATION = "none"  # refused before GraphQL ran, or the GraphiQL page

REQUESTS = Counter("deal_desk_graphql_requests", "HTTP requests to /graphql", ["operation_type", "status"])
LATENCY = Histogram("deal_desk_graphql_request_duration_seconds", "Time to answer a /graphql request",
                    ["operation_type"])
IN_FLIGHT = Gauge("deal_desk_graphql_requests_in_flight", "/graphql requests being answered now",
                  multiprocess_mode="livesum")  # with workers: summed over the live ones
NOTIFICATIONS = Counter("deal_desk_notifications", "Outbox delivery attempts, by channel and outcome",
                        ["channel", "outcome"])  # outcome: sent, retry, failed
ERRORS = Counter("deal_desk_graphql_errors", "Errors returned to clients, by extensions.code", ["code"])


def count_error(code: str) -> None:
    """Count one error sent to a client."""
    ERRORS.labels(code=code).inc()


def observe_request(operation_type: str | None, status: int, seconds: float) -> None:
    """Count one answered /graphql request and its latency."""
    kind = operation_type or NO_OPERATION
    REQUESTS.labels(operation_type=kind, status=str(status)).inc()
    LATENCY.labels(operation_type=kind).observe(seconds)


class MetricsMiddleware:
    """Counts and times HTTP requests to `path`."""

    def __init__(self, app: ASGIApp, *, path: str = "/graphql") -> None:
        self.app, self.path = app, path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].rstrip("/") != self.path:
            await self.app(scope, receive, send)
            return
        recorder, started = StatusRecorder(send), time.perf_counter()
        IN_FLIGHT.inc()
        try:
            await self.app(scope, receive, recorder.send)
        finally:
            IN_FLIGHT.dec()
            observe_request(operation_of(scope).type, recorder.status, time.perf_counter() - started)


class PoolCollector(Collector):
    """Connections checked out of each tracked engine's pool, read at scrape time."""

    def __init__(self) -> None:
        self.engines: weakref.WeakSet[Engine] = weakref.WeakSet()

    def track(self, engine: Engine) -> None:
        """Report `engine`'s pool from now on (until the engine is garbage)."""
        self.engines.add(engine)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        gauge = GaugeMetricFamily("deal_desk_db_pool_in_use", "Store connections checked out of the pool",
                                  labels=["store"])
        in_use: dict[str, int] = {}
        for engine in list(self.engines):
            in_use[engine.dialect.name] = in_use.get(engine.dialect.name, 0) + checked_out(engine)
        for store, count in sorted(in_use.items()):
            gauge.add_metric([store], count)
        yield gauge


def checked_out(engine: Engine) -> int:
    """Connections in use from `engine`'s pool (0 for pools that do not count them)."""
    count = getattr(engine.pool, "checkedout", None)
    return int(count()) if callable(count) else 0


POOLS = PoolCollector()
REGISTRY.register(POOLS)
