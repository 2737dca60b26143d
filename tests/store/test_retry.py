"""gateway.store.retry: which warehouse errors are retried, and how long; no network, a fake clock."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import urllib3.exceptions
from databricks.sql.exc import MaxRetryDurationError
from sqlalchemy.exc import DatabaseError, IntegrityError, OperationalError

from gateway.core.errors import Conflict, ServiceUnavailable
from gateway.store import retry
from gateway.store.retry import Backoff, Kind
from tests.support import warehouse_errors as errors


class Clock:
    """time.monotonic and time.sleep of a test: sleeping moves the clock."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


def backoff(clock: Clock, max_s: float = 10.0) -> Backoff:
    """The default curve, the largest jitter (waits are their upper bounds), on the fake clock."""
    return Backoff(max_s=max_s, sleep=clock.sleep, clock=clock, jitter=lambda: 1.0)


def failing(*raised: Exception) -> tuple[Callable[[], str], list[int]]:
    """A call raising `raised` on its first attempts, then answering "ok"; and its attempt log."""
    calls: list[int] = []

    def fn() -> str:
        calls.append(1)
        if len(calls) <= len(raised):
            raise raised[len(calls) - 1]
        return "ok"

    return fn, calls


def wrapped(error: Exception) -> DatabaseError:
    """As SQLAlchemy raises a connector error (a DB-API DatabaseError) out of Connection.execute."""
    return DatabaseError("SELECT 1", {}, error)


TRANSIENT = {
    "503 while the warehouse starts": errors.refused(503),
    "429 throttled": errors.refused(429),
    "connection reset under a statement": errors.connection_reset(),
    "connector out of retry time": MaxRetryDurationError("Retry request would exceed Retry policy max"),
    "raw urllib3 retries exhausted": urllib3.exceptions.MaxRetryError(None, "/sql/1.0", None),
    "session closed by a restart": errors.session_closed(),
    "wrapped by SQLAlchemy": OperationalError("SELECT 1", {}, errors.refused(503)),
}
CONFLICTS = {
    name: errors.delta_conflict(name) for name in (
        "DELTA_CONCURRENT_APPEND", "DELTA_CONCURRENT_DELETE_READ", "DELTA_CONCURRENT_DELETE_DELETE",
        "DELTA_CONCURRENT_TRANSACTION", "DELTA_METADATA_CHANGED", "DELTA_PROTOCOL_CHANGED")
} | {
    "older runtime's exception name": errors.server_error(
        "ConcurrentAppendException: Files were added to the root of the table by a concurrent update."),
    "wrapped by SQLAlchemy": wrapped(errors.delta_conflict()),
}
OTHER = {
    "token refused (401)": errors.unauthorized(),
    "syntax error": errors.server_error("[PARSE_SYNTAX_ERROR] Syntax error at or near 'SELEC'."),
    "SQLite busy": OperationalError("SELECT 1", {}, Exception("database is locked")),
    "duplicate key": IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed")),
    "a bug": ValueError("bug"),
}


@pytest.mark.parametrize("error", TRANSIENT.values(), ids=TRANSIENT.keys())
def test_warehouse_outages_are_transient(error: Exception) -> None:
    assert retry.classify(error) is Kind.TRANSIENT


@pytest.mark.parametrize("error", CONFLICTS.values(), ids=CONFLICTS.keys())
def test_delta_write_conflicts_are_concurrent_modifications(error: Exception) -> None:
    assert retry.classify(error) is Kind.CONFLICT


@pytest.mark.parametrize("error", OTHER.values(), ids=OTHER.keys())
def test_other_errors_are_neither(error: Exception) -> None:
    assert retry.classify(error) is Kind.OTHER


def test_backoff_doubles_from_a_tenth_of_a_second_up_to_two_seconds() -> None:
    assert [Backoff(jitter=lambda: 1.0).delay(n) for n in range(1, 8)] == [0.1, 0.2, 0.4, 0.8, 1.6, 2.0, 2.0]


def test_backoff_jitter_spreads_each_wait_over_its_whole_range() -> None:
    assert Backoff(jitter=lambda: 0.25).delay(3) == pytest.approx(0.1)


def test_a_read_is_run_again_after_transient_errors_then_answers(clock: Clock) -> None:
    fn, calls = failing(errors.refused(503), errors.connection_reset())
    assert retry.run_read(fn, backoff(clock)) == "ok"
    assert len(calls) == 3 and clock.slept == [0.1, 0.2]


def test_a_read_the_warehouse_keeps_refusing_is_unavailable_within_the_time_budget(clock: Clock) -> None:
    fn, calls = failing(*[errors.refused(503)] * 100)
    with pytest.raises(ServiceUnavailable) as raised:
        retry.run_read(fn, backoff(clock, max_s=5.0))
    assert sum(clock.slept) <= 5.0 and len(calls) == len(clock.slept) + 1
    assert raised.value.extensions == {"code": "SERVICE_UNAVAILABLE", "retryAfterSeconds": 5}


def test_time_spent_inside_an_attempt_counts_against_the_budget(clock: Clock) -> None:
    def slow_refusal() -> str:
        clock.now += 9.95  # the connector's own retries used most of the budget
        raise errors.refused(503)

    with pytest.raises(ServiceUnavailable):
        retry.run_read(slow_refusal, backoff(clock))
    assert clock.slept == []


@pytest.mark.parametrize("error", [errors.delta_conflict(), errors.unauthorized(), ValueError("bug")],
                         ids=["conflict", "unauthorized", "bug"])
def test_a_read_is_not_run_again_for_other_errors(clock: Clock, error: Exception) -> None:
    fn, calls = failing(error)
    with pytest.raises(type(error)):
        retry.run_read(fn, backoff(clock))
    assert len(calls) == 1


def test_a_write_statement_losing_delta_races_is_run_again(clock: Clock) -> None:
    fn, calls = failing(errors.delta_conflict(), errors.delta_conflict("DELTA_CONCURRENT_DELETE_READ"))
    assert retry.run_write_statement(fn, backoff(clock)) == "ok"
    assert len(calls) == 3


def test_a_write_statement_that_keeps_conflicting_is_a_conflict(clock: Clock) -> None:
    fn, _calls = failing(*[errors.delta_conflict()] * 100)
    with pytest.raises(Conflict, match="changed by a concurrent request; retry") as raised:
        retry.run_write_statement(fn, backoff(clock, max_s=3.0))
    assert raised.value.extensions == {"code": "CONFLICT"} and sum(clock.slept) <= 3.0


def test_a_write_statement_is_never_run_again_after_a_transient_error(clock: Clock) -> None:
    # A connection reset may come after the warehouse ran the statement: again could apply it twice.
    fn, calls = failing(errors.connection_reset())
    with pytest.raises(type(errors.connection_reset())):
        retry.run_write_statement(fn, backoff(clock))
    assert len(calls) == 1


@pytest.mark.parametrize(("error", "expected"), [
    (wrapped(errors.delta_conflict()), Conflict), (wrapped(errors.session_closed()), ServiceUnavailable),
], ids=["conflict", "transient"])
def test_an_unretried_error_becomes_the_clients_code(error: Exception, expected: type[Exception]) -> None:
    with pytest.raises(expected):
        retry.raise_as_gateway_error(error)


def test_other_errors_are_left_as_they_are() -> None:
    retry.raise_as_gateway_error(errors.unauthorized())


def test_the_connectors_own_http_retries_end_within_the_same_budget() -> None:
    assert retry.connector_options(10.0) == {
        "_retry_delay_max": 5.0, "_retry_stop_after_attempts_duration": 10.0}
    assert retry.connector_options(0.0)["_retry_stop_after_attempts_duration"] == 1.0  # its minimum
