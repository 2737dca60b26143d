"""`deal-desk backup --to` and `restore --from`: the real command on a seeded store (SQLite, PostgreSQL)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from gateway.core.tables import CORE_TABLES, audit_log, deals, metadata
from gateway.ops.backup import clone_statements
from gateway.store.database import Database
from tests.support.stores import fresh_url

DEAL_DESK = str(Path(sys.executable).with_name("deal-desk"))


def deal_desk(url: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    """`deal-desk ARGUMENTS` on the store at `url`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("DEAL_DESK_")}
    env["DEAL_DESK_DATABASE_URL"] = url
    return subprocess.run([DEAL_DESK, *arguments], env=env, capture_output=True, text=True, timeout=600,
                          check=False)


def counts(url: str) -> dict[str, int]:
    """Rows per core table and in the audit log."""
    db = Database(url)
    try:
        with db.engine.connect() as connection:
            return {table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
                    for table in (*CORE_TABLES, audit_log)}
    finally:
        db.dispose()


def add_a_deal(url: str) -> None:
    """A change made after the backup: one more deal (a copy of the first, renumbered)."""
    db = Database(url)
    try:
        with db.engine.begin() as connection:
            row = dict(connection.execute(select(deals).limit(1)).mappings().one())
            connection.execute(deals.insert().values({**row, "id": row["id"][:-4] + "ffff",
                                                      "deal_number": row["deal_number"] + "-X"}))
    finally:
        db.dispose()


@pytest.fixture
def seeded(database_url: str) -> str:
    """The test's store with a month of demo data."""
    done = deal_desk(database_url, "seed", "--scale", "1")
    assert done.returncode == 0, done.stderr
    return database_url


def test_a_backup_restores_into_an_empty_store_and_passes_audit_verify(seeded: str, store_kind: str,
                                                                      tmp_path: Path) -> None:
    backup = tmp_path / "deal-desk.backup"
    before = counts(seeded)
    made = deal_desk(seeded, "backup", "--to", str(backup))
    assert made.returncode == 0, made.stderr
    add_a_deal(seeded)  # the store moves on; the backup does not

    with contextlib.ExitStack() as stack:
        empty = stack.enter_context(contextlib.contextmanager(fresh_url)(store_kind, tmp_path / "restored"))
        (tmp_path / "restored").mkdir(exist_ok=True)
        restored = deal_desk(empty, "restore", "--from", str(backup))
        assert restored.returncode == 0, restored.stderr
        assert counts(empty) == before and before["deals"] > 0
        verified = deal_desk(empty, "audit", "verify")
        assert verified.returncode == 0, verified.stdout + verified.stderr


def test_a_restore_refuses_a_store_that_holds_data_unless_forced(seeded: str, tmp_path: Path) -> None:
    backup = tmp_path / "deal-desk.backup"
    assert deal_desk(seeded, "backup", "--to", str(backup)).returncode == 0
    add_a_deal(seeded)
    changed = counts(seeded)

    refused = deal_desk(seeded, "restore", "--from", str(backup))
    assert refused.returncode == 1 and "holds data" in refused.stderr
    assert counts(seeded) == changed  # untouched

    forced = deal_desk(seeded, "restore", "--from", str(backup), "--force")
    assert forced.returncode == 0, forced.stderr
    assert counts(seeded)["deals"] == changed["deals"] - 1
    assert deal_desk(seeded, "audit", "verify").returncode == 0


def test_a_missing_or_damaged_backup_is_refused_and_restores_nothing(database_url: str,
                                                                    tmp_path: Path) -> None:
    damaged = tmp_path / "damaged.backup"
    damaged.write_bytes(b"not a backup at all" * 100)
    for source in (tmp_path / "missing.backup", damaged):
        refused = deal_desk(database_url, "restore", "--from", str(source))
        assert refused.returncode == 1 and refused.stderr.startswith("error: ")
        assert "Traceback" not in refused.stderr


def test_databricks_backups_deep_clone_every_table_into_the_backup_schema() -> None:
    statements = clone_statements(source_schema="deal_desk", target_schema="deal_desk_backup")
    assert statements[0] == "CREATE SCHEMA IF NOT EXISTS `deal_desk_backup`"
    assert "CREATE OR REPLACE TABLE `deal_desk_backup`.`deals` DEEP CLONE `deal_desk`.`deals`" in statements
    assert len(statements) == 1 + len(metadata.sorted_tables)  # every table, workflow tables included
