"""Errors of databricks-sql-connector 4.9.0, built as its Thrift backend raises them (no telemetry host).

RequestError: `ThriftDatabricksClient._handle_request_error` passes the context it logged and the
original exception; ServerOperationError: `_check_command_not_in_error_or_closed_state` passes the
warehouse's display message. Messages follow Databricks' error classes (SQLSTATE 2D521 for Delta's
write conflicts).
"""

from __future__ import annotations

from typing import Any

from databricks.sql.exc import MaxRetryDurationError, RequestError, ServerOperationError


def _context(http_code: int | None, original: BaseException, reason: str) -> dict[str, Any]:
    return {"method": "ExecuteStatement", "session-id": b"s", "query-id": None, "http-code": http_code,
            "error-message": "", "original-exception": str(original), "no-retry-reason": reason,
            "bounded-retry-delay": None, "attempt": "1/30", "elapsed-seconds": "10.0/10.0"}


def refused(http_code: int) -> RequestError:
    """The warehouse kept answering `http_code` (429, 503 while it starts) until the connector gave up."""
    original = MaxRetryDurationError("Retry request would exceed Retry policy max retry duration of 10.0 s")
    return RequestError(f"Error during request to server: TEMPORARILY_UNAVAILABLE. {original}",
                        _context(http_code, original, "out of time"), None, original)


def connection_reset() -> RequestError:
    """The connection dropped under an ExecuteStatement: not retried by the connector (it may have run).

    The HTTP code is the transport's last one, from an earlier successful request."""
    original = ConnectionResetError(104, "Connection reset by peer")
    return RequestError(f"Error during request to server. {original}",
                        _context(200, original, "non-retryable error"), None, original)


def unauthorized() -> RequestError:
    """A token the workspace refuses."""
    original = Exception("HTTP 401")
    return RequestError("Error during request to server: Invalid access token.",
                        _context(401, original, "non-retryable error"), None, original)


def server_error(message: str) -> ServerOperationError:
    """A statement the warehouse ran and failed with `message`."""
    return ServerOperationError(message, {"operation-id": "01ef-op", "diagnostic-info": None})


def delta_conflict(error_class: str = "DELTA_CONCURRENT_APPEND") -> ServerOperationError:
    """A Delta commit that lost to a concurrent one."""
    return server_error(
        f"[{error_class}.WITHOUT_HINT] Transaction conflict detected. A concurrent MERGE added data to table "
        "`main`.`deal_desk_test`.`idempotency_keys` committed at version 12. Please retry the operation. "
        "SQLSTATE: 2D521")


def session_closed() -> ServerOperationError:
    """The warehouse restarted under an open session."""
    return server_error("[INVALID_HANDLE.SESSION_CLOSED] The handle 01ef-session is invalid. "
                        "Session was closed. SQLSTATE: HY000")
