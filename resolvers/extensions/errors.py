"""Error policy: known errors keep their code, request errors become BAD_USER_INPUT, the rest is masked."""

from __future__ import annotations

import structlog
from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from gateway.core.errors import GatewayError
from gateway.core.metrics import count_error

log = structlog.get_logger("deal_desk.graphql")

INTERNAL = "INTERNAL_SERVER_ERROR"
BAD_INPUT = "BAD_USER_INPUT"


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


def classify(errors: list[GraphQLError]) -> None:
    """Give every error a code (request errors are the client's input) and log one line each."""
    for error in errors:
        extensions = dict(error.extensions or {})
        extensions.setdefault("code", BAD_INPUT if is_expected(error) else INTERNAL)
        error.extensions = extensions
        log.info("graphql error", code=extensions["code"], path=_path(error) or None)
        count_error(extensions["code"])


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
