"""Data access for `persisted_queries`: Apollo's automatic persisted queries, by SHA-256, with a TTL.

A hash names one document, so concurrent registrations of a hash (other workers, other replicas)
insert the same row: the first one stays (INSERT ... ON CONFLICT DO NOTHING; MERGE on Databricks).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, delete, func, select

from gateway.core.tables import persisted_queries as queries
from gateway.store import retry, sqlfunc


def find(connection: Connection, *, sha256: str, now: dt.datetime) -> str | None:
    """The unexpired document registered under `sha256`, else None."""
    stmt = select(queries.c.document).where(queries.c.sha256 == sha256, queries.c.expires_at > now).limit(1)
    document: str | None = connection.execute(stmt).scalar()
    return document


def register(connection: Connection, *, sha256: str, document: str, now: dt.datetime, ttl: dt.timedelta,
             max_entries: int) -> bool:
    """Store `document` under `sha256` unless the store holds `max_entries` unexpired ones: True if stored."""
    retry.run_write_statement(lambda: connection.execute(delete(queries).where(queries.c.expires_at <= now)))
    if connection.execute(select(func.count()).select_from(queries)).scalar_one() >= max_entries:
        return False
    values = {"sha256": sha256, "document": document, "stored_at": now, "expires_at": now + ttl}
    retry.run_write_statement(lambda: connection.execute(
        sqlfunc.insert_absent(connection.dialect.name, queries, values, key="sha256")))
    return True
