"""`deal-desk audit verify --repair`: finish or abort the journaled operations a crash cut short
(gateway/store/settle.py says how), and free the Idempotency-Key claims whose request wrote nothing
that counts, so their retries run as new at once (a claim with a committed write is kept: its retry
replays it, gateway/store/claims.py)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine, select

from gateway.core.tables import write_operations
from gateway.store import claims, governance, journal
from gateway.store.settle import settle

GRACE = dt.timedelta(minutes=5)
"""Operations younger than this may still be running: they are left alone."""


@dataclass
class Outcome:
    """The operations repair completed and the ones it aborted."""

    completed: list[str] = field(default_factory=list)
    aborted: list[str] = field(default_factory=list)
    freed_claims: int = 0

    def summary(self) -> str:
        """One line for the operator."""
        freed = (f" Freed {self.freed_claims} idempotency claim(s) that wrote nothing."
                 if self.freed_claims else "")
        if not self.completed and not self.aborted:
            return "Nothing to repair: no write operation was left unfinished." + freed
        return (f"Repaired {len(self.completed) + len(self.aborted)} unfinished write operation(s): "
                f"{len(self.completed)} completed, {len(self.aborted)} aborted." + freed)


def repair(engine: Engine, *, older_than: dt.timedelta = GRACE) -> Outcome:
    """Complete or abort every operation left PENDING for longer than `older_than`."""
    outcome = Outcome()
    with engine.connect() as connection:
        journal.begin(connection)  # statement by statement, as the journal itself wrote
        for operation_id, anchor_id in stale(connection, older_than):
            done = settle(connection, operation_id, anchor_id)
            (outcome.completed if done else outcome.aborted).append(operation_id)
        outcome.freed_claims = claims.free_abandoned(connection, before=dt.datetime.now(dt.UTC) - older_than)
        governance.sync_user_access(connection)  # Databricks: user_access as the users rows now stand
    return outcome


def stale(connection: Connection, older_than: dt.timedelta) -> list[tuple[str, str | None]]:
    """(operation id, anchor audit id) of each operation PENDING since before now - `older_than`."""
    w = write_operations
    cutoff = dt.datetime.now(dt.UTC) - older_than
    stmt = (select(w.c.operation_id, w.c.anchor_audit_id)
            .where(w.c.state == "PENDING", w.c.recorded_at < cutoff, ~journal.ended(w.c.operation_id))
            .order_by(w.c.recorded_at))
    return [(row.operation_id, row.anchor_audit_id) for row in connection.execute(stmt)]
