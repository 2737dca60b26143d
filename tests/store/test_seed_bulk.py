"""`deal-desk seed` on Databricks: multi-row INSERTs of at most 255 bound parameters (the warehouse's
limit), as many rows as fit; SQLite keeps one executemany per table."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from gateway.core import tables
from gateway.core.settings import Settings
from gateway.ops import seed
from gateway.store import engine as engines
from gateway.store.database import Database
from gateway.store.migrate import migrate
from tests.support.fake_warehouse import fake_warehouse

URL = "databricks://adb-1.azuredatabricks.net?http_path=/sql/1.0/warehouses/abc&catalog=main&schema=deal_desk_test"
INSERT = re.compile(r"INSERT INTO (\w+) \(([^)]*)\) VALUES")
MAX_PARAMETERS = 255


def empty_store(sql: str, _params: Any) -> list[tuple[Any, ...]] | None:
    """The answers seed needs from an empty warehouse: no deals yet."""
    return [(0,)] if sql.startswith("SELECT count(*)") else None


def seeded_inserts() -> tuple[dict[str, int], list[tuple[str, int, int]]]:
    """Seed one month into the fake warehouse: the row counts, and (table, columns, rows) per INSERT."""
    settings = Settings(database_url=URL, databricks_token="dapi-test", _env_file=None)  # type: ignore[call-arg]
    with fake_warehouse() as fake:
        fake.respond = empty_store
        engine = engines.create(URL, settings)
        counts = seed.seed(engine, scale=1, progress=False)
        engine.dispose()
    inserts = []
    for sql, params in fake.statements:
        found = INSERT.match(sql)
        if found:
            assert isinstance(params, dict)  # one statement, not executemany
            columns = len(found.group(2).split(","))
            inserts.append((found.group(1), columns, len(params) // columns))
    return counts, inserts


def test_seeding_databricks_fills_each_statement_up_to_255_parameters(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(seed, "DEALS_PER_MONTH", 60)  # a small month: compiling 1500 statements takes 20 s
    counts, inserts = seeded_inserts()
    assert all(columns * rows <= MAX_PARAMETERS for _, columns, rows in inserts)
    full = Counter(table for table, columns, rows in inserts if rows == MAX_PARAMETERS // columns)
    partial = Counter(table for table, columns, rows in inserts if rows < MAX_PARAMETERS // columns)
    assert full["deals"] >= 4 and partial["deals"] <= 1  # only the last slice of the month is short
    rows = Counter()
    for table, _, inserted in inserts:
        rows[table] += inserted
    assert {name: rows[name] for name in counts} == counts
    assert rows["audit_log"] == sum(counts.values())  # every seeded row has its INSERT record


def test_seeding_sqlite_still_uses_one_executemany_per_table(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path}/t.db")
    migrate(db.engine)
    batch = seed.Batch()
    batch["advertisers"].extend({"id": f"a{i}", "name": f"Advertiser {i}", "created_at": seed.ANCHOR,
                                 "updated_at": seed.ANCHOR} for i in range(300))
    many: list[bool] = []
    event.listen(db.engine, "before_cursor_execute", lambda *args: many.append(args[-1]))
    with db.engine.begin() as connection:
        batch.write(connection)
    db.dispose()
    assert many == [True]
    assert tables.advertisers.name in batch.counts()
