"""A CLIENT span per SQL statement: the statement with its placeholders, never its parameter values."""

from __future__ import annotations

from typing import Any

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import Span, SpanKind, StatusCode, Tracer
from sqlalchemy import Connection, Engine, event
from sqlalchemy.engine import ExceptionContext

SPAN_KEY = "deal_desk.span"
MAX_STATEMENT = 4096  # characters of statement text kept on a span


def trace_statements(engine: Engine, provider: TracerProvider) -> None:
    """Listen to `engine` so that each statement it sends gets a span."""
    tracer = provider.get_tracer("deal_desk.sql")
    system = engine.dialect.name

    def before_cursor_execute(connection: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
        connection.info[SPAN_KEY] = start(tracer, system, statement)

    def after_cursor_execute(connection: Connection, *_args: Any) -> None:
        span = connection.info.pop(SPAN_KEY, None)
        if span is not None:
            span.end()

    def handle_error(context: ExceptionContext) -> None:
        connection = context.connection
        span = connection.info.pop(SPAN_KEY, None) if connection is not None else None
        if span is not None:  # the error's message may quote values: only its type is kept
            span.set_status(StatusCode.ERROR, type(context.original_exception).__name__)
            span.end()

    event.listen(engine, "before_cursor_execute", before_cursor_execute)
    event.listen(engine, "after_cursor_execute", after_cursor_execute)
    event.listen(engine, "handle_error", handle_error)


def start(tracer: Tracer, system: str, statement: str) -> Span:
    """A started span for `statement`, named after its first keyword (SELECT, INSERT...)."""
    verb = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else system
    return tracer.start_span(verb, kind=SpanKind.CLIENT, attributes={
        "db.system.name": system, "db.operation.name": verb, "db.query.text": statement[:MAX_STATEMENT]})
