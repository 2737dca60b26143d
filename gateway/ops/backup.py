"""`deal-desk backup --to TARGET` and `deal-desk restore --from SOURCE [--force]`, per store.

- SQLite: SQLite's online backup API, so a backup never stops the gateway; the copy is integrity-checked
  before it takes the target's name, and a source is checked before it is restored.
- PostgreSQL: `pg_dump` in its custom format, and `pg_restore` in one transaction. The password goes to the
  tools in PGPASSWORD, never on their command line.
- Databricks: `DEEP CLONE` of every table into a backup schema (TARGET names it), and back.

A restore refuses a store that holds data unless forced; `deal-desk audit verify` passes on what it restored.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

from sqlalchemy import Engine, func, inspect, select, text
from sqlalchemy.engine import URL, make_url

from gateway.core import tables
from gateway.store import governance

TOOL_TIMEOUT_S = 3600


class BackupError(Exception):
    """The backup or restore could not be made; the message says why (and never carries a secret)."""


def holds_data(engine: Engine) -> bool:
    """True when any core table of the store has a row."""
    present = set(inspect(engine).get_table_names())
    with engine.connect() as connection:
        return any(connection.execute(select(func.count()).select_from(table)).scalar()
                   for table in tables.CORE_TABLES if table.name in present)


def backup(engine: Engine, url: str, target: str) -> str:
    """Back the store at `url` (its engine: `engine`) up to `target`; returns what was written."""
    kind = engine.dialect.name
    if kind == "sqlite":
        return _backup_sqlite(_sqlite_path(make_url(url)), Path(target))
    if kind == "postgresql":
        dump = ["pg_dump", "--format=custom", "--no-owner", f"--file={target}"]
        return _pg_tool(dump, make_url(url), target)
    if kind == "databricks":
        return _clone(engine, source_schema=_schema(engine), target_schema=target)
    raise BackupError(f"no backup for a {kind} store")


def restore(engine: Engine, url: str, source: str, *, force: bool) -> str:
    """Restore `source` into the store at `url`, refusing a store that holds data unless `force`."""
    if holds_data(engine) and not force:
        raise BackupError("the store holds data; restore into an empty store, or pass --force to replace it")
    kind = engine.dialect.name
    if kind == "sqlite":
        engine.dispose()
        return _restore_sqlite(Path(source), _sqlite_path(make_url(url)))
    if kind == "postgresql":
        engine.dispose()
        command = ["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
                   "--exit-on-error", source]
        return _pg_tool(command, make_url(url), source, target_database=True)
    if kind == "databricks":
        restored = _clone(engine, source_schema=source, target_schema=_schema(engine))
        with engine.begin() as connection:  # the governed views' user_access, from the restored users
            governance.sync_user_access(connection)
        return restored
    raise BackupError(f"no restore for a {kind} store")


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite store has nothing to back up")
    return Path(url.database)


def _backup_sqlite(store: Path, target: Path) -> str:
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    with closing(_sqlite(store)) as source, closing(_sqlite(partial)) as copy:
        source.backup(copy)
    _check_integrity(partial)
    partial.replace(target)
    return f"backed up {store} to {target} ({target.stat().st_size} bytes, integrity checked)"


def _restore_sqlite(source: Path, store: Path) -> str:
    if not source.is_file():
        raise BackupError(f"no backup at {source}")
    _check_integrity(source)
    with closing(_sqlite(source)) as backed_up, closing(_sqlite(store)) as live:
        backed_up.backup(live)  # page by page under SQLite's own locks: no half-written store is ever seen
    return f"restored {store} from {source}"


def _sqlite(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, timeout=30)
    connection.execute("PRAGMA busy_timeout=30000")
    return connection


def _check_integrity(path: Path) -> None:
    try:
        with closing(_sqlite(path)) as connection:
            verdict = connection.execute("PRAGMA integrity_check").fetchone()[0]
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path} is not a SQLite database ({error})") from error
    if verdict != "ok":
        raise BackupError(f"{path} failed SQLite's integrity check: {verdict}")


def _pg_tool(command: list[str], url: URL, path: str, *, target_database: bool = False) -> str:
    tool = command[0]
    if shutil.which(tool) is None:
        raise BackupError(f"{tool} is not installed (PostgreSQL's client tools)")
    plain = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    environment = {**os.environ, **({"PGPASSWORD": str(url.password)} if url.password else {})}
    arguments = [*command, f"--dbname={plain}"]
    try:
        done = subprocess.run(arguments, env=environment, capture_output=True, text=True,
                              timeout=TOOL_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired as error:
        raise BackupError(f"{tool} did not finish within {TOOL_TIMEOUT_S} s") from error
    if done.returncode != 0:
        raise BackupError(f"{tool} failed: {done.stderr.strip().splitlines()[-1] if done.stderr else ''}")
    verb = "restored from" if target_database else "backed up to"
    return f"{verb} {path} ({tool}, custom format)"


def _schema(engine: Engine) -> str:
    schema = engine.url.query.get("schema") or "default"
    return str(schema)


def clone_statements(*, source_schema: str, target_schema: str) -> list[str]:
    """The Databricks statements that copy every table of `source_schema` into `target_schema`."""
    names = [table.name for table in tables.metadata.sorted_tables]
    return [f"CREATE SCHEMA IF NOT EXISTS `{target_schema}`",
            *(f"CREATE OR REPLACE TABLE `{target_schema}`.`{name}` DEEP CLONE `{source_schema}`.`{name}`"
              for name in names)]


def _clone(engine: Engine, *, source_schema: str, target_schema: str) -> str:
    statements = clone_statements(source_schema=source_schema, target_schema=target_schema)
    with engine.connect() as connection:
        for statement in statements:
            connection.execute(text(statement))
    return f"deep-cloned {len(statements) - 1} tables from {source_schema} into {target_schema}"
