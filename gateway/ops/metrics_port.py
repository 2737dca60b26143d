"""DEAL_DESK_METRICS_PORT: Prometheus metrics on a port of their own, away from the API's port."""

from __future__ import annotations

import logging

from prometheus_client import start_http_server

from gateway.core import multiprocess_metrics
from gateway.core.settings import Settings

log = logging.getLogger("deal_desk.metrics")


def serve_metrics(settings: Settings, host: str) -> None:
    """With a metrics port, answer scrapes there from a thread of this process (every worker's, summed)."""
    if settings.metrics_port is None:
        return
    # In `serve --workers N` this runs in the supervisor after the metrics directory is set, so the
    # registry sums every worker's files, as /metrics on the API port would.
    start_http_server(settings.metrics_port, addr=host, registry=multiprocess_metrics.registry())
    log.info("metrics on http://%s:%d/metrics", host, settings.metrics_port)
