"""A SERVER span per HTTP request, continuing the caller's trace (W3C `traceparent`)."""

from __future__ import annotations

from opentelemetry import propagate
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import Span, SpanKind, StatusCode
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.core.exchange import StatusRecorder


class HttpTracingMiddleware:
    """Spans named `METHOD /route` with method, path, route and status: never the query string or headers."""

    def __init__(self, app: ASGIApp, *, provider: TracerProvider) -> None:
        self.app = app
        self.tracer = provider.get_tracer("deal_desk.http")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        parent = propagate.extract(Headers(scope=scope))
        with self.tracer.start_as_current_span(
            scope["method"], context=parent, kind=SpanKind.SERVER, attributes=request_attributes(scope),
            record_exception=False, set_status_on_exception=False,
        ) as span:
            recorder = StatusRecorder(send)
            try:
                await self.app(scope, receive, recorder.send)
            except Exception as error:
                span.set_status(StatusCode.ERROR, type(error).__name__)  # the message may hold values
                raise
            finally:
                finish(span, scope, recorder.status)


def request_attributes(scope: Scope) -> dict[str, str]:
    """What a request span says about its request."""
    return {"http.request.method": scope["method"], "url.path": scope["path"],
            "url.scheme": scope.get("scheme", "http"),
            "network.protocol.version": scope.get("http_version", "1.1")}


def finish(span: Span, scope: Scope, status: int) -> None:
    """Name the span after the matched route and record the response status (5xx is an error)."""
    route = getattr(scope.get("route"), "path", None)
    if isinstance(route, str):
        span.update_name(f"{scope['method']} {route}")
        span.set_attribute("http.route", route)
    span.set_attribute("http.response.status_code", status)
    if status >= 500:
        span.set_status(StatusCode.ERROR)
