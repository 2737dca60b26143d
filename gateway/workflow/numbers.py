"""Deal numbers `DD-<year>-<6 digits>`, allocated per year inside the creating transaction.

The counter row is bumped with `UPDATE ... SET last_value = last_value + 1` before it is read, so
the row lock (PostgreSQL) or the write lock (SQLite) serialises concurrent creators until commit
and no two deals get one number; a rolled-back creation gives its number back. The first deal of
a year inserts the row, starting after the highest number of that year already stored (deals
seeded or imported without the counter); when two transactions race to do so, the loser's INSERT
fails in a savepoint and it bumps the row the winner created. The counter is a sequence, not business data:
it is not audited (the number itself is, in the deal's INSERT).

Where writes are journaled (no transactions, no savepoints: Databricks), the counter is advanced by
compare-and-set on `last_value`, retried when another creator came first, and the year's row is
created with a MERGE that inserts it only when absent. A number taken by a creation that then fails
is not given back there (a gap, never a duplicate).
"""

from __future__ import annotations

from sqlalchemy import Connection, func, select
from sqlalchemy.exc import IntegrityError

from gateway.core.errors import ServiceUnavailable
from gateway.core.tables import deal_number_counters as counters
from gateway.core.tables import deals
from gateway.store import journal as journals
from gateway.store import sqlfunc

PREFIX = "DD"
ATTEMPTS = 20


def format_number(year: int, value: int) -> str:
    """The deal number of the `value`-th deal of `year`."""
    return f"{PREFIX}-{year}-{value:06d}"


def allocate(connection: Connection, *, year: int) -> str:
    """The next deal number of `year`, in the caller's transaction."""
    if journals.of(connection) is not None:
        return _allocate_by_compare_and_set(connection, year)
    if not _bump(connection, year):
        first = _highest_stored(connection, year) + 1
        try:
            with connection.begin_nested():
                connection.execute(counters.insert().values(year=year, last_value=first))
            return format_number(year, first)
        except IntegrityError:
            _bump(connection, year)  # another transaction created the year's row first
    value = connection.execute(select(counters.c.last_value).where(counters.c.year == year)).scalar_one()
    return format_number(year, value)


def _allocate_by_compare_and_set(connection: Connection, year: int) -> str:
    for _attempt in range(ATTEMPTS):
        current = connection.execute(select(counters.c.last_value).where(counters.c.year == year)).scalar()
        if current is None:
            first = {"year": year, "last_value": _highest_stored(connection, year)}
            connection.execute(sqlfunc.insert_absent(connection.dialect.name, counters, first, key="year"))
            continue
        stmt = (counters.update().where(counters.c.year == year, counters.c.last_value == current)
                .values(last_value=current + 1))
        if connection.execute(stmt).rowcount == 1:
            return format_number(year, current + 1)
    raise ServiceUnavailable("Too many deals are being created at once; retry in a moment.")


def _bump(connection: Connection, year: int) -> bool:
    stmt = counters.update().where(counters.c.year == year).values(last_value=counters.c.last_value + 1)
    return connection.execute(stmt).rowcount == 1


def _highest_stored(connection: Connection, year: int) -> int:
    prefix = f"{PREFIX}-{year}-"
    stmt = select(func.max(deals.c.deal_number)).where(deals.c.deal_number.like(f"{prefix}%"))
    highest = connection.execute(stmt).scalar()
    return int(highest[len(prefix):]) if highest else 0
