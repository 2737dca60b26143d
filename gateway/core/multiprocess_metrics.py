"""Prometheus metrics across worker processes: per-process files in one directory, summed at scrape time.

`deal-desk serve --workers N` sets PROMETHEUS_MULTIPROC_DIR before any worker starts, so every
counter, histogram and gauge of every worker is written there and /metrics (answered by any worker)
reports their sum. The pool gauge (`deal_desk_db_pool_in_use`) is read at scrape time and covers
only the worker that answered.
"""

from __future__ import annotations

import functools
import os
import tempfile

from prometheus_client import REGISTRY, CollectorRegistry, multiprocess

from gateway.core.metrics import POOLS

ENV = "PROMETHEUS_MULTIPROC_DIR"


def enabled() -> bool:
    """True in a process started with a metrics directory (a worker of `serve --workers N`)."""
    return bool(os.environ.get(ENV))


def prepare() -> str | None:
    """Give the workers about to start a new metrics directory; returns it, or None if one was set."""
    if enabled():
        return None  # the operator's directory (empty it between runs)
    directory = tempfile.mkdtemp(prefix="deal-desk-metrics-")
    os.environ[ENV] = directory
    return directory


@functools.cache
def registry() -> CollectorRegistry:
    """What /metrics exposes: this process's metrics, or with workers every worker's summed."""
    if not enabled():
        return REGISTRY
    combined = CollectorRegistry()
    multiprocess.MultiProcessCollector(combined)
    combined.register(POOLS)
    return combined


def mark_dead(pid: int) -> None:
    """Drop an exited worker's live gauges (requests in flight)."""
    if enabled():
        multiprocess.mark_process_dead(pid)
