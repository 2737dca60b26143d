"""A fresh, migrated store per test: a SQLite file, and PostgreSQL when DEAL_DESK_TEST_POSTGRES_URL is set."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

POSTGRES_URL = os.environ.get("DEAL_DESK_TEST_POSTGRES_URL")
STORES = ["sqlite", *([pytest.param("postgresql", marks=pytest.mark.postgres)] if POSTGRES_URL else [])]
JOURNAL = "sqlite-journal"
"""SQLite with journaled writes, standing in for Databricks (no multi-statement transactions)."""
WITH_JOURNAL = [*STORES, JOURNAL]
"""For modules that also run on journaled writes: `pytestmark = parametrize("store_kind", WITH_JOURNAL)`."""


def write_mode(kind: str) -> str:
    """The DEAL_DESK_WRITE_MODE a store of `kind` runs with."""
    return "journal" if kind == JOURNAL else "auto"


def fresh_url(kind: str, tmp_path: Path) -> Iterator[str]:
    """The URL of a new empty database of `kind`, dropped afterwards."""
    if kind in ("sqlite", JOURNAL):
        yield f"sqlite:///{tmp_path}/deal_desk.db"
        return
    assert POSTGRES_URL is not None
    server = make_url(POSTGRES_URL).set(drivername="postgresql")
    name = f"deal_desk_test_{uuid.uuid4().hex}"
    admin = server.render_as_string(hide_password=False)
    _admin(admin, f'CREATE DATABASE "{name}"')
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        _admin(admin, f'DROP DATABASE "{name}" WITH (FORCE)')


def _admin(url: str, sql: str) -> None:
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(sql.encode())
