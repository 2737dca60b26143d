"""Who is writing: the actor of one mutation, recorded with every row it changes."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection

from gateway.core.ids import new_id
from gateway.core.tables import audit_log


@dataclass(frozen=True)
class Actor:
    """The caller of one mutation; `operation_id` groups every audit row it writes."""

    user_id: str
    sub: str
    request_id: str | None = None
    idempotency_key: str | None = None
    reason: str | None = None
    via: str = "API"  # where the change was asked for: API, SLACK or SYSTEM (approval_actions.via)
    operation_id: str = field(default_factory=new_id)
    at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))


def to_json(values: Mapping[Any, Any] | None) -> str | None:
    """Column values as JSON: decimals and dates as strings, keys sorted."""
    if values is None:
        return None
    return json.dumps(dict(values), default=_plain, sort_keys=True)


def _plain(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot audit a {type(value).__name__}")


def values(
    *, actor: Actor, table: str, row_id: str, operation: str, before: Mapping[Any, Any] | None,
    after: Mapping[Any, Any] | None, audit_id: str | None = None,
) -> dict[str, Any]:
    """The columns of one audit row."""
    return {
        "id": audit_id or new_id(), "operation_id": actor.operation_id, "occurred_at": actor.at,
        "actor_user_id": actor.user_id, "actor_sub": actor.sub, "table_name": table, "row_id": row_id,
        "operation": operation, "before_json": to_json(before), "after_json": to_json(after),
        "request_id": actor.request_id, "idempotency_key": actor.idempotency_key, "reason": actor.reason,
    }


def record(
    connection: Connection, *, actor: Actor, table: str, row_id: str, operation: str,
    before: Mapping[Any, Any] | None, after: Mapping[Any, Any] | None,
) -> None:
    """Append one audit row, in the caller's transaction."""
    connection.execute(audit_log.insert().values(**values(
        actor=actor, table=table, row_id=row_id, operation=operation, before=before, after=after)))
