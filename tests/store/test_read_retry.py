"""A read whose connection is lost is run once more on a new connection; a write never is."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError, OperationalError

from gateway.core.errors import ServiceUnavailable
from gateway.store.database import Database


def lost(invalidated: bool = True) -> DBAPIError:
    """What SQLAlchemy raises when the server closed the connection under a statement."""
    return DBAPIError("SELECT 1", {}, Exception("server closed the connection unexpectedly"),
                      connection_invalidated=invalidated)


def failing(*errors: Exception) -> tuple[Callable[[Connection], int], list[int]]:
    """A data-access function raising `errors` on its first calls, then answering; and its call log."""
    calls: list[int] = []

    def fn(connection: Connection) -> int:
        calls.append(1)
        if len(calls) <= len(errors):
            raise errors[len(calls) - 1]
        return int(connection.execute(text("SELECT 41 + 1")).scalar_one())

    return fn, calls


async def test_a_read_on_a_lost_connection_is_retried_once(db: Database) -> None:
    fn, calls = failing(lost())
    assert await db.read(fn) == 42 and len(calls) == 2


async def test_a_read_losing_its_connection_twice_is_unavailable(db: Database) -> None:
    fn, calls = failing(lost(), lost())
    with pytest.raises(ServiceUnavailable):
        await db.read(fn)
    assert len(calls) == 2  # bounded: one retry


@pytest.mark.parametrize("error", [
    lost(invalidated=False),
    OperationalError("SELECT 1", {}, Exception("database is locked")),
], ids=["not-invalidated", "operational"])
async def test_other_store_errors_are_not_retried(db: Database, error: Exception) -> None:
    fn, calls = failing(error)
    with pytest.raises((ServiceUnavailable, DBAPIError)):
        await db.read(fn)
    assert len(calls) == 1


async def test_a_write_is_never_retried(db: Database) -> None:
    fn, calls = failing(lost())
    with pytest.raises(ServiceUnavailable):
        await db.write(fn)
    assert len(calls) == 1


async def test_errors_of_the_function_itself_are_not_retried(db: Database) -> None:
    def broken(_connection: Connection) -> Any:
        calls.append(1)
        raise ValueError("bug")

    calls: list[int] = []
    with pytest.raises(ValueError):
        await db.read(broken)
    assert len(calls) == 1
