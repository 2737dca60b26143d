"""Versioned, idempotent schema migrations, safe to run on every start."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, select

from gateway.store import tables


@dataclass(frozen=True)
class Migration:
    """One schema step; `apply` must itself be idempotent (checkfirst)."""

    version: int
    description: str
    apply: Callable[[Connection], None]


def _core_tables(connection: Connection) -> None:
    tables.metadata.create_all(connection, tables=list(tables.CORE_TABLES), checkfirst=True)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "core tables of the Deal Desk", _core_tables),
)


def current_version(connection: Connection) -> int:
    """The highest applied migration, 0 on an empty store."""
    versions = connection.execute(select(tables.schema_version.c.version)).scalars().all()
    return max(versions, default=0)


def migrate(engine: Engine) -> list[Migration]:
    """Apply every migration not yet recorded; return the ones applied."""
    with engine.begin() as connection:
        tables.schema_version.create(connection, checkfirst=True)
    applied = []
    for migration in MIGRATIONS:
        with engine.begin() as connection:
            if migration.version <= current_version(connection):
                continue
            migration.apply(connection)
            connection.execute(
                tables.schema_version.insert().values(
                    version=migration.version,
                    description=migration.description,
                    applied_at=dt.datetime.now(dt.UTC),
                )
            )
        applied.append(migration)
    return applied
