"""PostgreSQL computes the pricing guidance of the demo data to the same numbers as SQLite, bit for bit."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from gateway.core.tables import pricing_segments
from gateway.ops.seed import seed
from gateway.store import pricing
from gateway.store.database import Database
from gateway.store.migrate import migrate
from tests.support.stores import POSTGRES_URL

pytestmark = [pytest.mark.postgres,
              pytest.mark.skipif(POSTGRES_URL is None, reason="needs DEAL_DESK_TEST_POSTGRES_URL")]
STORE_KINDS = ["postgresql"]
NOW = dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)


def segments_of(url: str) -> list[tuple[Any, ...]]:
    """The demo data's pricing_segments rows on the store at `url`, refreshed at NOW, in key order."""
    db = Database(url)
    try:
        migrate(db.engine)
        seed(db.engine, scale=1, progress=False)
        with db.engine.begin() as connection:
            written = pricing.refresh(connection, now=NOW, stale_before=None)
        with db.engine.connect() as connection:
            p = pricing_segments.c
            rows = connection.execute(select(pricing_segments).order_by(p.level, p.segment_key)).all()
    finally:
        db.dispose()
    assert written == len(rows) - 1  # and the clock row
    return [tuple(row) for row in rows]


def test_postgresql_gives_the_numbers_sqlite_gives(database_url: str, tmp_path: Path) -> None:
    on_sqlite = segments_of(f"sqlite:///{tmp_path}/deal_desk.db")
    on_postgresql = segments_of(database_url)

    assert len(on_postgresql) == len(on_sqlite) > 200
    assert on_postgresql == on_sqlite  # exact decimals and the same doubles
    levels = {row[0] for row in on_sqlite if row[8] >= 30}  # sample_size of 30 or more at some level
    assert levels >= {3}
