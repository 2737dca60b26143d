"""Retrying the Databricks warehouse: which errors deserve another attempt, and backoff bounded in time.

Two layers (docs/databricks.md). databricks-sql-connector retries one HTTP request the warehouse
refused with 429 or 503 (it honours Retry-After), within the same time budget (`connector_options`).
This module retries what it cannot: a whole read whose connection was reset or whose session died
(a warehouse restart), or that the connector gave up on; and one write statement whose Delta commit
lost to a concurrent one (nothing was written, so running it again is safe). Exponential backoff with
full jitter; no attempt starts after DEAL_DESK_STORE_RETRY_MAX_S.
"""

from __future__ import annotations

import enum
import random
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

import structlog

from gateway.core.errors import Conflict, GatewayError, ServiceUnavailable

if TYPE_CHECKING:
    from gateway.core.settings import Settings

log = structlog.get_logger("deal_desk.store")

T = TypeVar("T")

TRANSIENT_HTTP = frozenset({429, 502, 503, 504})
# Delta's write conflicts (all SQLSTATE 2D521), by error class and by the older exception names.
CONFLICT_MARKERS = (
    "SQLSTATE: 2D521", "DELTA_CONCURRENT_APPEND", "DELTA_CONCURRENT_DELETE_READ",
    "DELTA_CONCURRENT_DELETE_DELETE", "DELTA_CONCURRENT_TRANSACTION", "DELTA_CONCURRENT_WRITE",
    "DELTA_METADATA_CHANGED", "DELTA_PROTOCOL_CHANGED", "ConcurrentAppendException",
    "ConcurrentDeleteReadException", "ConcurrentDeleteDeleteException", "ConcurrentTransactionException",
    "ConcurrentWriteException", "MetadataChangedException", "ProtocolChangedException",
)
# A warehouse starting, stopping or restarting under an open session.
TRANSIENT_MARKERS = (
    "TEMPORARILY_UNAVAILABLE", "INVALID_HANDLE.SESSION_", "Invalid SessionHandle",
    "has not been initialized or had already closed", "unexpectedly closed server side",
)
URLLIB3_ERRORS = ("MaxRetryError", "ProtocolError", "NewConnectionError", "TimeoutError")
CONNECTOR_DELAY_MAX_S = 5.0  # the connector's lowest allowed cap; it waits at least this before a retry
CONFLICT_MESSAGE = "The data was changed by a concurrent request; retry the request."


class Kind(enum.Enum):
    """What an error means for another attempt."""

    TRANSIENT = "transient"  # the warehouse could not answer now; a read may run again
    CONFLICT = "conflict"  # a Delta commit lost to a concurrent one; the statement wrote nothing
    OTHER = "other"


def classify(error: BaseException) -> Kind:
    """The kind of `error`, looking through SQLAlchemy's and the connector's wrappers."""
    for cause in _chain(error):
        kind = _own_kind(cause)
        if kind is not Kind.OTHER:
            return kind
    return Kind.OTHER


def _chain(error: BaseException) -> Iterator[BaseException]:
    """`error`, then what it wraps: SQLAlchemy's `orig`, `__cause__`, the connector's original error."""
    pending, seen = [error], set()
    while pending:
        current = pending.pop(0)
        if id(current) not in seen:
            seen.add(id(current))
            yield current
            wrapped = (getattr(current, "orig", None), current.__cause__, *current.args)
            pending.extend(e for e in wrapped if isinstance(e, BaseException))


def _loaded(module: str) -> Any:
    """`module` if this process imported it, else None: its errors cannot exist before it is loaded.

    The connector (the `[databricks]` extra) is imported only for a databricks:// store, so this
    module looks its errors up instead of importing it on SQLite and PostgreSQL.
    """
    return sys.modules.get(module)


def network_errors() -> tuple[type[BaseException], ...]:
    """Errors of a lost or refused connection, the connector's own among them once it is loaded."""
    errors: list[type[BaseException]] = [ConnectionError, TimeoutError]
    if (urllib3 := _loaded("urllib3.exceptions")) is not None:
        errors.extend(getattr(urllib3, name) for name in URLLIB3_ERRORS)
    if (dbsql := _loaded("databricks.sql.exc")) is not None:
        errors.append(dbsql.MaxRetryDurationError)
    return tuple(errors)


def _own_kind(error: BaseException) -> Kind:
    if isinstance(error, network_errors()):
        return Kind.TRANSIENT
    dbsql = _loaded("databricks.sql.exc")
    if dbsql is None:
        return Kind.OTHER
    if isinstance(error, dbsql.RequestError):
        return Kind.TRANSIENT if error.context.get("http-code") in TRANSIENT_HTTP else Kind.OTHER
    if isinstance(error, dbsql.Error):
        return _kind_of_message(str(error.message or ""))
    return Kind.OTHER


def _kind_of_message(message: str) -> Kind:
    if any(marker in message for marker in CONFLICT_MARKERS):
        return Kind.CONFLICT
    if any(marker in message for marker in TRANSIENT_MARKERS):
        return Kind.TRANSIENT
    return Kind.OTHER


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with full jitter; no retry starts once `max_s` have passed since the first try."""

    max_s: float = 10.0
    base_s: float = 0.1
    cap_s: float = 2.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    jitter: Callable[[], float] = random.random

    def delay(self, retry: int) -> float:
        """The wait before retry number `retry` (1, 2, ...): uniform up to base * 2^(retry-1), capped."""
        return self.jitter() * min(self.cap_s, self.base_s * 2 ** (retry - 1))


def backoff_from(settings: Settings | None) -> Backoff:
    """The backoff that DEAL_DESK_STORE_RETRY_MAX_S bounds."""
    from gateway.core.settings import Settings

    return Backoff(max_s=(settings or Settings()).store_retry_max_s)


@cache
def configured() -> Backoff:
    """The backoff of this process's settings (read once)."""
    return backoff_from(None)


def connector_options(max_s: float) -> dict[str, float]:
    """databricks-sql-connector's own retry options: its HTTP retries end within the same budget."""
    # The connector sleeps max(Retry-After, _retry_delay_max) before each retry: 60 s by default.
    return {"_retry_delay_max": CONNECTOR_DELAY_MAX_S, "_retry_stop_after_attempts_duration": max(1.0, max_s)}


def raise_as_gateway_error(error: BaseException) -> None:
    """Raise CONFLICT for a Delta write conflict, SERVICE_UNAVAILABLE for a transient error; else return."""
    kind = classify(error)
    if kind is Kind.CONFLICT:
        raise Conflict(CONFLICT_MESSAGE) from error
    if kind is Kind.TRANSIENT:
        log.warning("store unavailable", error_type=type(error).__name__)
        raise ServiceUnavailable() from error


def run_read(fn: Callable[[], T], backoff: Backoff | None = None) -> T:
    """`fn()` (a read), run again on transient errors; SERVICE_UNAVAILABLE once the time is up."""
    return _run(fn, Kind.TRANSIENT, backoff or configured(), ServiceUnavailable)


def run_write_statement(fn: Callable[[], T], backoff: Backoff | None = None) -> T:
    """`fn()` (one write statement), run again while it loses Delta commit races; then CONFLICT."""
    return _run(fn, Kind.CONFLICT, backoff or configured(), lambda: Conflict(CONFLICT_MESSAGE))


def _run(fn: Callable[[], T], retried: Kind, backoff: Backoff, give_up: Callable[[], GatewayError]) -> T:
    deadline, retry = backoff.clock() + backoff.max_s, 0
    while True:
        try:
            return fn()
        except Exception as error:
            if classify(error) is not retried:
                raise
            retry += 1
            wait = backoff.delay(retry)
            if backoff.clock() + wait > deadline:
                log.warning("store error persisted", kind=retried.value, attempts=retry,
                            error_type=type(error).__name__)
                raise give_up() from error
            log.info("store error; retrying", kind=retried.value, error_type=type(error).__name__,
                     retry=retry, wait_s=round(wait, 2))
            backoff.sleep(wait)
