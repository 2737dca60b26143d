"""An operation's type and name: in its log lines and, over HTTP, in its scope (access log, metrics)."""

from __future__ import annotations

from collections.abc import Iterator

from starlette.requests import Request
from strawberry.extensions import SchemaExtension

from gateway.core.exchange import Operation, log_operation, record_operation


class RecordOperation(SchemaExtension):
    """Once parsed, the operation's type and name go in the log lines; after it, over HTTP, in the scope."""

    def on_execute(self) -> Iterator[None]:
        log_operation(Operation(self._type(), self.execution_context.operation_name))
        yield

    def on_operation(self) -> Iterator[None]:
        yield
        request = getattr(self.execution_context.context, "request", None)
        if isinstance(request, Request):  # WebSocket operations have no access line
            record_operation(request.scope, Operation(self._type(), self.execution_context.operation_name))

    def _type(self) -> str | None:
        try:
            return self.execution_context.operation_type.value
        except RuntimeError:  # the document did not parse, or names no such operation
            return None
