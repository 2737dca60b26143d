"""Data access for the outbox (`notifications`): rows written with their change, claimed under a lease.

`enqueue` goes through the change's Writer, so a notification is in the same transaction as what causes
it, or, where writes are journaled (Databricks), in the same journaled operation: no change without its
notification, no notification without its change. Delivery state (`claim`, `mark_*`) is the dispatcher's
own bookkeeping, written directly like idempotency keys.

A claim is one guarded UPDATE: it takes only rows still PENDING, due, and not leased (or whose lease ran
out). PostgreSQL re-checks that guard on a row another claim changed meanwhile, SQLite serialises
writers, a Delta table refuses the second of two conflicting commits: one claimant gets each row.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Row, or_, select, update

from gateway.core.ids import new_id
from gateway.core.tables import notifications
from gateway.store.writer import Writer

n = notifications


def enqueue(writer: Writer, *, channel: str, kind: str, recipient: str | None,
            payload: Mapping[str, Any]) -> str:
    """Write one PENDING notification with the writer's change; its id."""
    row = {"id": new_id(), "channel": channel, "kind": kind, "recipient": recipient,
           "payload": json.dumps(dict(payload), sort_keys=True, default=str), "status": "PENDING",
           "attempts": 0, "next_attempt_at": writer.actor.at, "lease_owner": None, "lease_until": None,
           "created_at": writer.actor.at, "sent_at": None, "last_error": None}
    writer.insert(notifications, row)
    return str(row["id"])


def claim(connection: Connection, *, owner: str, now: dt.datetime, lease_s: float,
          limit: int) -> list[Row[Any]]:
    """Lease up to `limit` due PENDING rows to `owner` (a new id per claim); the rows leased."""
    free = or_(n.c.lease_until.is_(None), n.c.lease_until < now)
    due = select(n.c.id).where(n.c.status == "PENDING", n.c.next_attempt_at <= now, free)
    ids = list(connection.execute(due.order_by(n.c.next_attempt_at).limit(limit)).scalars())
    if not ids:
        return []
    until = now + dt.timedelta(seconds=lease_s)
    connection.execute(update(n).where(n.c.id.in_(ids), n.c.status == "PENDING", free)
                       .values(lease_owner=owner, lease_until=until))
    return list(connection.execute(select(n).where(n.c.lease_owner == owner, n.c.id.in_(ids))))


def mark_sent(connection: Connection, *, row_id: str, owner: str, now: dt.datetime) -> None:
    """The row was delivered."""
    connection.execute(update(n).where(n.c.id == row_id, n.c.lease_owner == owner)
                       .values(status="SENT", sent_at=now, attempts=n.c.attempts + 1, lease_until=None))


def mark_retry(connection: Connection, *, row_id: str, owner: str, error: str,
               next_attempt_at: dt.datetime) -> None:
    """The attempt failed; the row is due again at `next_attempt_at`."""
    connection.execute(update(n).where(n.c.id == row_id, n.c.lease_owner == owner)
                       .values(attempts=n.c.attempts + 1, last_error=error, lease_until=None,
                               next_attempt_at=next_attempt_at))


def mark_failed(connection: Connection, *, row_id: str, owner: str, error: str) -> None:
    """The row is given up on: FAILED, with the last error's code."""
    connection.execute(update(n).where(n.c.id == row_id, n.c.lease_owner == owner)
                       .values(status="FAILED", attempts=n.c.attempts + 1, last_error=error,
                               lease_until=None))


def list_rows(connection: Connection, *, statuses: Sequence[str] | None = None,
              limit: int = 100) -> list[Row[Any]]:
    """The newest rows (of `statuses`, if given), newest first."""
    stmt = select(n)
    if statuses:
        stmt = stmt.where(n.c.status.in_(list(statuses)))
    return list(connection.execute(stmt.order_by(n.c.created_at.desc(), n.c.id.desc()).limit(limit)))
