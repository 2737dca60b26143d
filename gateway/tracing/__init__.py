"""OpenTelemetry tracing, off unless DEAL_DESK_OTEL_ENABLED: the app's hooks, each doing nothing when off.

When off nothing of OpenTelemetry is imported and no middleware, extension or engine listener is added.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

import anyio.to_thread
from starlette.middleware import Middleware

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from sqlalchemy import Engine
    from strawberry.extensions import SchemaExtension

    from gateway.core.settings import Settings


def provider_for(settings: Settings) -> TracerProvider | None:
    """A tracer provider exporting as the OTEL_* variables say when tracing is on, else None."""
    if not settings.otel_enabled:
        return None
    from gateway.tracing.provider import tracer_provider

    return tracer_provider()


def middleware(provider: TracerProvider | None) -> list[Middleware]:
    """The middleware giving each HTTP request a span (put it outermost); none when tracing is off."""
    if provider is None:
        return []
    from gateway.tracing.http import HttpTracingMiddleware

    return [Middleware(HttpTracingMiddleware, provider=provider)]


def schema_extensions(provider: TracerProvider | None) -> tuple[Callable[[], SchemaExtension], ...]:
    """The schema extension giving each GraphQL operation a span; none when tracing is off."""
    if provider is None:
        return ()
    from gateway.tracing.graphql import OperationTracing

    return (partial(OperationTracing, provider=provider),)


def trace_engine(engine: Engine, provider: TracerProvider | None) -> None:
    """Give each SQL statement `engine` sends a span; nothing when tracing is off."""
    if provider is None:
        return
    from gateway.tracing.sql import trace_statements

    trace_statements(engine, provider)


async def shutdown(provider: TracerProvider | None) -> None:
    """Export the spans still buffered and stop the exporter (off the event loop: it may block)."""
    if provider is not None:
        await anyio.to_thread.run_sync(provider.shutdown)
