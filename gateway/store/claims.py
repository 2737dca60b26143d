"""An Idempotency-Key's claim inside the write journal (stores without transactions: Databricks).

The request that holds a key runs under its claim token. Each of its journaled writes names, on its
PENDING row in `write_operations`, the token, which write of the request it is (the write function and
how many times the request called it) and what the write function returned. So when a crash leaves
the claim unfinished, the journal says what happened: the retry (or `audit verify --repair`) settles
the claim's unfinished operations, then runs the request again with the committed writes replayed
(each returns what it returned, without writing again) and the others run as new. A request whose
writes all aborted, or that wrote nothing, thus simply runs again.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, delete, exists, select

from gateway.core.tables import idempotency_keys as keys
from gateway.core.tables import write_operations as w
from gateway.store import changes, journal
from gateway.store.settle import settle


@dataclass
class RequestClaim:
    """The claim a request runs under, and the writes of an earlier run of it that committed."""

    token: str
    replays: dict[str, str | None] = field(default_factory=dict)  # step -> the result it returned (JSON)
    calls: Counter[str] = field(default_factory=Counter)

    def step(self, fn: Callable[..., Any]) -> str:
        """The name of this call of `fn` within the request: the function and its ordinal."""
        name = f"{fn.__module__}.{fn.__qualname__}"
        self.calls[name] += 1
        return f"{name}#{self.calls[name]}"


current: contextvars.ContextVar[RequestClaim | None] = contextvars.ContextVar("deal_desk_claim", default=None)


def columns(claim: RequestClaim, step: str, result: Any) -> dict[str, Any]:
    """The PENDING row's claim columns of one write of the request."""
    return {"claim": claim.token, "claim_step": step, "result_json": encode(result)}


def resolve(connection: Connection, *, token: str) -> dict[str, str | None]:
    """Settle the claim's unfinished operations; the steps that committed, with what they returned."""
    for operation_id, anchor_id in unfinished(connection, token=token):
        settle(connection, operation_id, anchor_id)
    return committed_steps(connection, token=token)


def committed_steps(connection: Connection, *, token: str) -> dict[str, str | None]:
    """The claim's writes that COMMITTED: step -> what the write function returned (JSON)."""
    done = w.alias("done")
    committed = exists().where(done.c.operation_id == w.c.operation_id, done.c.state == "COMMITTED")
    stmt = (select(w.c.claim_step, w.c.result_json)
            .where(w.c.claim == token, w.c.state == "PENDING", committed))
    return {row.claim_step: row.result_json for row in connection.execute(stmt)}


def free_abandoned(connection: Connection, *, before: dt.datetime) -> int:
    """Delete the unfinished claims made before `before` that have no committed write, so their retries
    run as new at once; how many. (Run after their operations were settled.)"""
    held = (select(keys.c.caller_sub, keys.c.key, keys.c.response_body)
            .where(keys.c.status == "IN_PROGRESS", keys.c.created_at < before))
    freed = 0
    for row in connection.execute(held).all():
        if row.response_body is None or committed_steps(connection, token=row.response_body):
            continue
        changes.execute(connection, delete(keys).where(
            keys.c.caller_sub == row.caller_sub, keys.c.key == row.key, keys.c.status == "IN_PROGRESS",
            keys.c.response_body == row.response_body))
        freed += 1
    return freed


def unfinished(connection: Connection, *, token: str) -> list[tuple[str, str | None]]:
    """(operation id, anchor audit id) of the claim's operations that have no end marker."""
    stmt = select(w.c.operation_id, w.c.anchor_audit_id).where(
        w.c.claim == token, w.c.state == "PENDING", ~journal.ended(w.c.operation_id))
    return [(row.operation_id, row.anchor_audit_id) for row in connection.execute(stmt)]


def encode(value: Any) -> str:
    """A write function's result as JSON: None, text, numbers, and mappings or lists of them, typed."""
    return json.dumps(_tagged(value), sort_keys=True)


def decode(text: str | None) -> Any:
    """The result `encode` wrote."""
    return None if text is None else _untagged(json.loads(text))


def _tagged(value: Any) -> Any:
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, dt.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, dict):
        return {"$map": {str(key): _tagged(item) for key, item in value.items()}}
    if isinstance(value, (list, tuple)):
        return [_tagged(item) for item in value]
    raise TypeError(f"a write's result of type {type(value).__name__} cannot be replayed")


def _untagged(value: Any) -> Any:
    if isinstance(value, list):
        return [_untagged(item) for item in value]
    if not isinstance(value, dict):
        return value
    [(tag, item)] = value.items()
    if tag == "$decimal":
        return Decimal(item)
    if tag == "$datetime":
        return dt.datetime.fromisoformat(item)
    if tag == "$date":
        return dt.date.fromisoformat(item)
    return {key: _untagged(inner) for key, inner in item.items()}
