"""What the middlewares learn about one HTTP request: the GraphQL operation it ran and its status."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.types import Message, Scope, Send

from gateway.core.logging import bind_fields

SCOPE_KEY = "deal_desk.operation"
MAX_NAME = 100  # operation names come from the client


@dataclass(frozen=True)
class Operation:
    """The type (query, mutation, subscription) and the name of the operation a request ran."""

    type: str | None
    name: str | None


def record_operation(scope: Scope, operation: Operation) -> None:
    """Note the request's operation in its scope and in its later log lines."""
    scope[SCOPE_KEY] = log_operation(operation)


def log_operation(operation: Operation) -> Operation:
    """Put the operation (its name cut to MAX_NAME) in the request's later log lines; return it so cut."""
    name = operation.name[:MAX_NAME] if operation.name else None
    bind_fields(operation_type=operation.type, operation_name=name)
    return Operation(operation.type, name)


def operation_of(scope: Scope) -> Operation:
    """The request's operation; both parts None when no GraphQL operation ran."""
    operation = scope.get(SCOPE_KEY)
    return operation if isinstance(operation, Operation) else Operation(None, None)


class StatusRecorder:
    """Wraps `send` to remember the response status (500 until a response starts)."""

    def __init__(self, send: Send) -> None:
        self.downstream, self.status = send, 500

    async def send(self, message: Message) -> None:
        """The `send` given to the app."""
        if message["type"] == "http.response.start":
            self.status = int(message["status"])
        await self.downstream(message)
