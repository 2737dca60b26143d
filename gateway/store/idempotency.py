"""Data access for `idempotency_keys`: claim a key, record its response, release or purge it.

SQLite and PostgreSQL detect a held key by the primary key's IntegrityError. Databricks enforces no
key: there a claim is a MERGE (insert if absent) carrying a random claim token in `response_body`
(unused until the response is stored), and the request holds the key when the row read back carries
its token. Delta refuses all but one of concurrent MERGEs of a key; the others are run again
(retry.run_write_statement) and then find the key held.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, Executable, Row, and_, delete, or_, select, update

from gateway.core.ids import new_id
from gateway.core.tables import idempotency_keys as keys
from gateway.store import retry
from gateway.store.merge import MergeRow

IN_PROGRESS, DONE = "IN_PROGRESS", "DONE"
CLAIM_PREFIX = "claim:"


def _key(sub: str, key: str) -> Any:
    return and_(keys.c.caller_sub == sub, keys.c.key == key)


def _run(connection: Connection, statement: Executable) -> Any:
    return retry.run_write_statement(lambda: connection.execute(statement))


def claim(connection: Connection, *, sub: str, key: str, request_hash: str, now: dt.datetime,
          ttl: dt.timedelta, in_request_transaction: bool = False, token: str | None = None) -> bool:
    """Hold the key IN_PROGRESS, replacing an expired one: True; when it is held, IntegrityError
    (SQLite, PostgreSQL) or False (Databricks). `token` (journaled writes): the claim's own, kept in
    `response_body` until the response is (gateway/store/claims.py).

    `in_request_transaction`: the claim commits with the request's own writes and answer (gateway/store/
    unit.py), so a visible unfinished claim was left by a process that never committed it (written before
    claims moved into the request's transaction); it is replaced like an expired one."""
    if connection.dialect.name == "databricks":
        return _claim_by_merge(connection, sub=sub, key=key, request_hash=request_hash, now=now, ttl=ttl,
                               token=token or CLAIM_PREFIX + new_id())
    replaceable = keys.c.expires_at <= now
    if in_request_transaction:
        replaceable = or_(replaceable, keys.c.status == IN_PROGRESS)
    connection.execute(delete(keys).where(_key(sub, key), replaceable))
    connection.execute(keys.insert().values(
        caller_sub=sub, key=key, request_hash=request_hash, status=IN_PROGRESS, response_body=token,
        created_at=now, expires_at=now + ttl,
    ))
    return True


def _claim_by_merge(connection: Connection, *, sub: str, key: str, request_hash: str, now: dt.datetime,
                    ttl: dt.timedelta, token: str) -> bool:
    row = {"caller_sub": sub, "key": key, "request_hash": request_hash, "status": IN_PROGRESS,
           "response_status": None, "response_body": token, "created_at": now, "expires_at": now + ttl}
    merge = MergeRow(keys, row, keys=("caller_sub", "key"),
                     replace_when=lambda target, source: target.c.expires_at <= source.c.created_at)
    _run(connection, merge).close()
    return _holds(connection, sub=sub, key=key, token=token)


def _holds(connection: Connection, *, sub: str, key: str, token: str) -> bool:
    """True when the key's first row carries `token`; a duplicate row of ours is removed."""
    first = (keys.c.created_at, keys.c.response_body)
    stmt = select(keys.c.response_body).where(_key(sub, key)).order_by(*first)
    tokens = list(connection.execute(stmt).scalars())
    if token in tokens[1:]:  # a duplicate Delta let through: the first row wins, for every reader alike
        _run(connection, delete(keys).where(_key(sub, key), keys.c.response_body == token))
    return tokens[:1] == [token]


def find(connection: Connection, *, sub: str, key: str, now: dt.datetime) -> Row[Any] | None:
    """The caller's unexpired record of `key`."""
    stmt = select(keys).where(_key(sub, key), keys.c.expires_at > now)
    return connection.execute(stmt).first()


def complete(connection: Connection, *, sub: str, key: str, status: int, body: str) -> None:
    """Record the response of a claimed key."""
    _run(connection, update(keys).where(_key(sub, key), keys.c.status == IN_PROGRESS).values(
        status=DONE, response_status=status, response_body=body,
    ))


def take_over(connection: Connection, *, sub: str, key: str, token: str, claimed_at: dt.datetime,
              now: dt.datetime) -> bool:
    """Renew an abandoned claim for the request that resumes it: True unless another one renewed it first."""
    held = and_(_key(sub, key), keys.c.status == IN_PROGRESS, keys.c.response_body == token,
                keys.c.created_at == claimed_at)
    return int(_run(connection, update(keys).where(held).values(created_at=now)).rowcount) == 1


def release(connection: Connection, *, sub: str, key: str) -> None:
    """Drop an unfinished claim, so a retry may run."""
    _run(connection, delete(keys).where(_key(sub, key), keys.c.status == IN_PROGRESS))


def purge_expired(connection: Connection, *, now: dt.datetime) -> int:
    """Delete every expired key; returns how many."""
    return int(_run(connection, delete(keys).where(keys.c.expires_at <= now)).rowcount)
