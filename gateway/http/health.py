"""Liveness, readiness and Prometheus metrics endpoints."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gateway.core import multiprocess_metrics


async def healthz(_request: Request) -> Response:
    """The process is up."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """The store answers."""
    if await request.app.state.db.ping():
        return JSONResponse({"status": "ready"})
    return JSONResponse({"status": "store unreachable"}, status_code=503)


async def metrics(_request: Request) -> Response:
    """Prometheus exposition of every metric of this process (of every worker, with several)."""
    return Response(generate_latest(multiprocess_metrics.registry()), media_type=CONTENT_TYPE_LATEST)
