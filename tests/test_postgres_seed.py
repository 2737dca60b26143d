"""Seeding PostgreSQL leaves the planner statistics fresh: the first queries after a seed get good plans."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from gateway.core import tables as t
from gateway.ops.seed import seed
from gateway.store.database import Database
from gateway.store.migrate import migrate
from tests.support.stores import POSTGRES_URL

pytestmark = [pytest.mark.postgres,
              pytest.mark.skipif(POSTGRES_URL is None, reason="needs DEAL_DESK_TEST_POSTGRES_URL")]
STORE_KINDS = ["postgresql"]


def test_every_core_table_is_analyzed_once_seeded(database_url: str) -> None:
    db = Database(database_url)
    migrate(db.engine)

    seed(db.engine, scale=1, progress=False)

    with db.engine.connect() as connection:
        analyzed = dict(connection.execute(text(
            "SELECT relname, last_analyze IS NOT NULL FROM pg_stat_user_tables")).all())
    db.dispose()
    assert {table.name: analyzed.get(table.name) for table in t.CORE_TABLES} == {
        table.name: True for table in t.CORE_TABLES}
