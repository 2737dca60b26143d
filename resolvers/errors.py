"""Error policy: known errors keep their code, request errors become BAD_USER_INPUT, the rest is masked."""

from __future__ import annotations

import logging
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from gateway.errors import GatewayError

log = logging.getLogger("deal_desk.graphql")

INTERNAL = "INTERNAL_SERVER_ERROR"


def is_expected(error: GraphQLError) -> bool:
    """Errors whose message was written for the client."""
    original = error.original_error
    if isinstance(original, GatewayError):
        return True
    return original is None and bool(error.extensions and "code" in error.extensions)


class ErrorPolicy(MaskErrors):
    """Masks unexpected errors (no stack trace, SQL or secret leaves) and gives every error a code."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=self._should_mask, error_message="Internal server error.")

    def _should_mask(self, error: GraphQLError) -> bool:
        if is_expected(error):
            return False
        if error.original_error is None or error.path is None:
            error.extensions = {**(error.extensions or {}), "code": "BAD_USER_INPUT"}
            return False
        log.error("unexpected error at %s: %s", _path(error), type(error.original_error).__name__)
        return True

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        masked = super().anonymise_error(error)
        masked.extensions = {"code": INTERNAL}
        return masked


def _path(error: GraphQLError) -> str:
    return ".".join(str(part) for part in error.path or [])


def log_errors(errors: list[GraphQLError], *_: Any) -> None:
    """One line per error with its code and path, never a stack trace."""
    for error in errors:
        code = (error.extensions or {}).get("code", INTERNAL)
        log.info("graphql error %s at %s", code, _path(error) or "-")
