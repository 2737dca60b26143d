"""A span per GraphQL operation, current while it runs so that its SQL spans nest under it."""

from __future__ import annotations

from collections.abc import Iterator

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import Span
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from gateway.core.exchange import MAX_NAME

UNNAMED = "GraphQL operation"


class OperationTracing(SchemaExtension):
    """Spans named `query Deals` with the operation's type and name: never the document or the variables."""

    def __init__(self, *, provider: TracerProvider,
                 execution_context: ExecutionContext | None = None) -> None:
        self.tracer = provider.get_tracer("deal_desk.graphql")
        if execution_context is not None:
            self.execution_context = execution_context

    def on_operation(self) -> Iterator[None]:
        # No exception events or messages on the span: they may quote the client's values.
        with self.tracer.start_as_current_span(UNNAMED, record_exception=False,
                                               set_status_on_exception=False) as span:
            yield
            describe(span, self.execution_context)


def describe(span: Span, context: ExecutionContext) -> None:
    """Name `span` after the operation that ran and record its type and name (client-given, so cut short)."""
    name = (context.operation_name or "")[:MAX_NAME] or None
    kind = operation_type(context)
    if kind is not None:
        span.set_attribute("graphql.operation.type", kind)
    if name is not None:
        span.set_attribute("graphql.operation.name", name)
    span.update_name(" ".join(part for part in (kind, name) if part) or UNNAMED)


def operation_type(context: ExecutionContext) -> str | None:
    """query, mutation or subscription; None when the document did not parse or names no such operation."""
    try:
        return context.operation_type.value
    except RuntimeError:
        return None
