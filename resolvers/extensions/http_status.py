"""HTTP status from a response's errors: 503 with Retry-After when the store is down."""

from __future__ import annotations

from collections.abc import Iterator

from strawberry.extensions import SchemaExtension

RETRY_AFTER_S = 5


class HttpStatusFromErrors(SchemaExtension):
    """A response whose trouble is an unavailable store answers 503, so clients retry."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None) or []
        codes = {(error.extensions or {}).get("code") for error in errors}
        response = getattr(self.execution_context.context, "response", None)
        if "SERVICE_UNAVAILABLE" in codes and response is not None:
            response.status_code = 503
            response.headers["retry-after"] = str(RETRY_AFTER_S)


def is_request_error(result: object) -> bool:
    """True when the request was refused before execution: no data, and no error has a path.

    Syntax, validation, limits and variable coercion: such a result carries no `data` (GraphQL over HTTP).
    """
    errors = getattr(result, "errors", None) or []
    return bool(errors) and getattr(result, "data", None) is None and all(e.path is None for e in errors)
