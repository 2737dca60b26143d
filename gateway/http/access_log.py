"""One structured access log line per HTTP request."""

from __future__ import annotations

import time
from typing import Any

import structlog
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.core.exchange import StatusRecorder, operation_of

log = structlog.get_logger("deal_desk.access")


class AccessLogMiddleware:
    """Logs request id, caller's user id, operation, status and duration; never a header or a token."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        recorder, started = StatusRecorder(send), time.perf_counter()
        try:
            await self.app(scope, receive, recorder.send)
        finally:
            log.info("request", **access_fields(scope, recorder.status, time.perf_counter() - started))


def access_fields(scope: Scope, status: int, seconds: float) -> dict[str, Any]:
    """The fields of one access line."""
    principal, operation = scope.get("user"), operation_of(scope)
    return {
        "request_id": scope.get("request_id"),
        "method": scope["method"],
        "path": scope["path"],
        "user_id": getattr(principal, "user_id", None),
        "operation_type": operation.type,
        "operation_name": operation.name,
        "status": status,
        "duration_ms": round(seconds * 1000, 1),
    }
