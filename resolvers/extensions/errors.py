"""Error policy: known errors keep their code, request errors get Apollo's codes, the rest is masked."""

from __future__ import annotations

import structlog
from graphql import GraphQLError
from strawberry.extensions import MaskErrors
from strawberry.types import ExecutionContext

from gateway.core.errors import GatewayError
from gateway.core.metrics import count_error

log = structlog.get_logger("deal_desk.graphql")

INTERNAL = "INTERNAL_SERVER_ERROR"
BAD_INPUT = "BAD_USER_INPUT"
PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
PARSER_LIMIT = "Parsing aborted."  # graphql-core's message ending when a token or nesting limit stops it


def is_expected(error: GraphQLError) -> bool:
    """Errors written for the client: ours, and the request's own (syntax, validation, variables)."""
    original = error.original_error
    return original is None or error.path is None or isinstance(original, GatewayError)


class ErrorPolicy(MaskErrors):
    """Masks unexpected errors: no stack trace, SQL or secret reaches the client."""

    def __init__(self) -> None:
        # A plain function: a bound method kept on the instance would make it a reference cycle.
        super().__init__(should_mask_error=should_mask, error_message="Internal server error.")

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        masked = super().anonymise_error(error)
        masked.extensions = {"code": INTERNAL}
        return masked


def should_mask(error: GraphQLError) -> bool:
    """True for unexpected errors (classify() gave them the INTERNAL code), logged once here."""
    if is_expected(error) or (error.extensions or {}).get("code") not in (None, INTERNAL):
        return False
    log.error("unexpected error", path=_path(error), error_type=type(error.original_error).__name__)
    return True


def classify(errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
    """Give every error a code (request errors by the phase that found them) and log one line each."""
    for error in errors:
        extensions = dict(error.extensions or {})
        extensions.setdefault("code", code_of(error, execution_context))
        error.extensions = extensions
        log.info("graphql error", code=extensions["code"], path=_path(error) or None)
        count_error(extensions["code"])


def code_of(error: GraphQLError, execution_context: ExecutionContext | None) -> str:
    """The code of an error that carries none: by phase for request errors, else input or internal."""
    if not is_expected(error):
        return INTERNAL
    if error.path is not None or error.original_error is not None or execution_context is None:
        return BAD_INPUT
    if execution_context.graphql_document is None:  # the parser refused the text
        return VALIDATION_FAILED if error.message.endswith(PARSER_LIMIT) else PARSE_FAILED
    if execution_context.result is None:  # refused by validation, before execution began
        return VALIDATION_FAILED
    return BAD_INPUT  # refused as execution began: variables missing or of the wrong type


def drop_tracebacks(error: BaseException | None) -> None:
    """Forget the error's stack (and its causes'): never shown or logged, and a cycle through every frame."""
    # A frame in a traceback holds the error it raised: the error, its traceback and each frame's locals
    # (the request's loaders and rows) would wait for the collector instead of being freed with the request.
    pending, seen = [error], set()
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        current.__traceback__ = None
        pending += [getattr(current, "original_error", None), current.__cause__, current.__context__]


def _path(error: GraphQLError) -> str:
    return ".".join(str(part) for part in error.path or [])
