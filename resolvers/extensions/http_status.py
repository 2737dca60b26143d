"""HTTP status from a response's errors: 503 with Retry-After when the store is down, 400 for bad requests."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

RETRY_AFTER_S = 5


class HttpStatusFromErrors(SchemaExtension):
    """A response whose only trouble is an unavailable store answers 503, so clients retry."""

    def on_operation(self) -> Iterator[None]:
        try:
            yield
        except GraphQLError:  # ParserCache's syntax errors leave the operation instead of becoming its result
            self._bad_request()
            raise
        result = self.execution_context.result
        errors = getattr(result, "errors", None) or []
        codes = {(error.extensions or {}).get("code") for error in errors}
        response = getattr(self.execution_context.context, "response", None)
        if "SERVICE_UNAVAILABLE" in codes and response is not None:
            response.status_code = 503
            response.headers["retry-after"] = str(RETRY_AFTER_S)
        elif is_request_error(result):
            self._bad_request()

    def _bad_request(self) -> None:
        response = getattr(self.execution_context.context, "response", None)
        if response is not None:
            response.status_code = 400


def is_request_error(result: object) -> bool:
    """True when the request was refused before execution: no data, and no error has a path.

    Syntax, validation, limits and variable coercion; they answer 400 (GraphQL over HTTP), not 200.
    """
    errors = getattr(result, "errors", None) or []
    return bool(errors) and getattr(result, "data", None) is None and all(e.path is None for e in errors)
