"""Data access for `idempotency_keys`: claim a key, record its response, release or purge it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, Row, and_, delete, select, update

from gateway.store.tables import idempotency_keys as keys

IN_PROGRESS, DONE = "IN_PROGRESS", "DONE"


def _key(sub: str, key: str) -> Any:
    return and_(keys.c.caller_sub == sub, keys.c.key == key)


def claim(connection: Connection, *, sub: str, key: str, request_hash: str, now: dt.datetime,
          ttl: dt.timedelta) -> None:
    """Insert the key IN_PROGRESS, replacing an expired one; IntegrityError when it is held."""
    connection.execute(delete(keys).where(_key(sub, key), keys.c.expires_at <= now))
    connection.execute(keys.insert().values(
        caller_sub=sub, key=key, request_hash=request_hash, status=IN_PROGRESS,
        created_at=now, expires_at=now + ttl,
    ))


def find(connection: Connection, *, sub: str, key: str, now: dt.datetime) -> Row[Any] | None:
    """The caller's unexpired record of `key`."""
    stmt = select(keys).where(_key(sub, key), keys.c.expires_at > now)
    return connection.execute(stmt).first()


def complete(connection: Connection, *, sub: str, key: str, status: int, body: str) -> None:
    """Record the response of a claimed key."""
    connection.execute(update(keys).where(_key(sub, key), keys.c.status == IN_PROGRESS).values(
        status=DONE, response_status=status, response_body=body,
    ))


def release(connection: Connection, *, sub: str, key: str) -> None:
    """Drop an unfinished claim, so a retry may run."""
    connection.execute(delete(keys).where(_key(sub, key), keys.c.status == IN_PROGRESS))


def purge_expired(connection: Connection, *, now: dt.datetime) -> int:
    """Delete every expired key; returns how many."""
    return connection.execute(delete(keys).where(keys.c.expires_at <= now)).rowcount
