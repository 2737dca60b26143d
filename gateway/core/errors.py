"""Errors a client may see, each with its `extensions.code` (PRODUCT.md, Errors)."""

from __future__ import annotations

from typing import Any, ClassVar


class GatewayError(Exception):
    """An error whose message is safe to show; graphql-core copies `extensions` to the client."""

    code: ClassVar[str] = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str, *, field: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.extensions: dict[str, Any] = {"code": self.code, **extra}
        if field is not None:
            self.extensions["field"] = field


class BadUserInput(GatewayError):
    """An argument or input field is invalid; names the offending field."""

    code = "BAD_USER_INPUT"


class BadRequest(GatewayError):
    """The HTTP request itself is malformed: not JSON, no query, a batch, a subscription over plain HTTP."""

    code = "BAD_REQUEST"


class PersistedQueryNotFound(GatewayError):
    """No document is registered under the request's hash or id (Apollo's client then sends the query)."""

    code = "PERSISTED_QUERY_NOT_FOUND"

    def __init__(self) -> None:
        super().__init__("PersistedQueryNotFound")  # the message Apollo's clients look for


class PersistedQueryNotInList(GatewayError):
    """Only trusted documents may run, and this is not one of them."""

    code = "PERSISTED_QUERY_NOT_IN_LIST"

    def __init__(self) -> None:
        super().__init__("Only trusted documents may run: send the documentId of a manifest operation.")


class Forbidden(GatewayError):
    """The caller is authenticated but may not do or see this."""

    code = "FORBIDDEN"


class NotFound(GatewayError):
    """The object does not exist, or the caller may not see it."""

    code = "NOT_FOUND"


class Conflict(GatewayError):
    """Stale version, illegal transition or an approval already decided."""

    code = "CONFLICT"


class InsufficientData(GatewayError):
    """Too few deals to give a figure from (pricing guidance below its minimum sample): null, and why."""

    code = "INSUFFICIENT_DATA"


class RateLimited(GatewayError):
    """Too many requests from this caller."""

    code = "RATE_LIMITED"


class ServiceUnavailable(GatewayError):
    """The store cannot be reached; the client should retry later."""

    code = "SERVICE_UNAVAILABLE"

    def __init__(self, message: str = "The store is unavailable; retry later.",
                 *, retry_after_s: int = 5) -> None:
        super().__init__(message, retryAfterSeconds=retry_after_s)
