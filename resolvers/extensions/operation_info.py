"""Notes each HTTP request's operation type and name in its scope, for the access log and metrics."""

from __future__ import annotations

from collections.abc import Iterator

from starlette.requests import Request
from strawberry.extensions import SchemaExtension

from gateway.core.exchange import Operation, record_operation


class RecordOperation(SchemaExtension):
    """After each operation over HTTP, puts its type and name in the request's scope."""

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
