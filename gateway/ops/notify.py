"""`deal-desk notify list`: the outbox's rows, newest first, as a table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, Row

from gateway.store import outbox

COLUMNS = ("created", "channel", "kind", "recipient", "status", "attempts", "next attempt", "sent", "error")


def rows(engine: Engine, *, failed: bool, limit: int) -> list[Row[Any]]:
    """The newest rows, only FAILED ones with `failed`."""
    with engine.connect() as connection:
        return outbox.list_rows(connection, statuses=["FAILED"] if failed else None, limit=limit)


def print_rows(found: Sequence[Row[Any]], console: Console | None = None) -> None:
    """The rows as a rich table (no payload: it may hold names and comments)."""
    table = Table(*COLUMNS, title=f"{len(found)} notification(s)")
    for row in found:
        table.add_row(_when(row.created_at), row.channel, row.kind, row.recipient or "-", row.status,
                      str(row.attempts), _when(row.next_attempt_at) if row.status == "PENDING" else "-",
                      _when(row.sent_at), row.last_error or "-")
    (console or Console(width=160)).print(table)


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value is not None else "-"
