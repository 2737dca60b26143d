"""Against a real workspace, only when DEAL_DESK_TEST_DATABRICKS_URL names one (with DEAL_DESK_DATABRICKS_*
credentials in the environment): migrate, then the main reads, on the warehouse itself."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from gateway.core.settings import Settings
from gateway.store.database import Database
from gateway.store.migrate import migrate
from tests.support.statements import Ids, reads

URL = os.environ.get("DEAL_DESK_TEST_DATABRICKS_URL")
pytestmark = [
    pytest.mark.databricks,
    pytest.mark.skipif(not URL, reason="DEAL_DESK_TEST_DATABRICKS_URL is not set (no Databricks workspace)"),
]
LIVE_READS = ["deal.get_page[admin]", "deal.count[filter=every_field]", "pipeline[MONTH]",
              "metrics[admin,30d]", "node.kind_of[deal]", "children.approvals", "verify.check_rows"]


@pytest.fixture(scope="module")
def warehouse() -> Iterator[Database]:
    """The workspace's test schema, migrated."""
    database = Database(str(URL), Settings())
    migrate(database.engine)
    yield database
    database.dispose()


@pytest.mark.parametrize("name", LIVE_READS)
def test_read_runs_on_the_warehouse(warehouse: Database, name: str) -> None:
    with warehouse.engine.connect() as connection:
        reads(Ids())[name](connection)
