"""Deal numbers: DD-<year>-<6 digits>, one counter per year, no number twice under concurrent creators."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, select

from gateway.core.settings import Settings
from gateway.core.tables import deal_number_counters
from gateway.store.database import Database
from gateway.store.migrate import migrate
from gateway.workflow.numbers import allocate, format_number
from tests.support.gateway import Gateway
from tests.support.stores import WITH_JOURNAL

STORE_KINDS = WITH_JOURNAL  # also on journaled writes (tests/conftest.py)


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    """The migrated test store."""
    database = Database(settings.database_url)
    migrate(database.engine)
    yield database
    database.dispose()


def test_format() -> None:
    assert format_number(2026, 123) == "DD-2026-000123"


async def test_each_year_counts_from_one(db: Database) -> None:
    assert [await db.write(allocate, year=2026) for _ in range(3)] == [
        "DD-2026-000001", "DD-2026-000002", "DD-2026-000003"]
    assert await db.write(allocate, year=2027) == "DD-2027-000001"
    with db.engine.connect() as connection:
        rows = connection.execute(select(deal_number_counters).order_by(deal_number_counters.c.year)).all()
    assert [tuple(row) for row in rows] == [(2026, 3), (2027, 1)]


async def test_a_rolled_back_allocation_gives_its_number_back(db: Database) -> None:
    def fail(connection: Connection) -> None:
        allocate(connection, year=2026)
        raise RuntimeError("the deal could not be written")

    with pytest.raises(RuntimeError):
        await db.write(fail)
    assert await db.write(allocate, year=2026) == "DD-2026-000001"


async def test_parallel_transactions_racing_for_a_new_year_get_distinct_numbers(db: Database) -> None:
    found = await asyncio.gather(*(db.write(allocate, year=2030) for _ in range(10)))
    assert sorted(found) == [format_number(2030, n) for n in range(1, 11)]


async def test_a_year_already_holding_deals_continues_after_its_highest_number(gateway: Gateway) -> None:
    # Seeded or imported deals carry numbers but no counter row.
    owner = gateway.data.user("seller@x.test", "SELLER")
    advertiser = gateway.data.advertiser("Acme")
    for number in (7, 41):
        gateway.data.deal(owner=owner, advertiser=advertiser, deal_number=format_number(2026, number))

    numbers = [await gateway.app.state.db.write(allocate, year=2026) for _ in range(2)]

    assert numbers == ["DD-2026-000042", "DD-2026-000043"]
