"""Reads of the audit log and row counts, straight from the store."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Engine, Table, func, select

from gateway.core.tables import audit_log


def count(engine: Engine, table: Table) -> int:
    """How many rows `table` holds."""
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


SIGN_INS = audit_log.c.table_name == "users"


def mutation_audit_count(engine: Engine) -> int:
    """Audit records written by mutations (sign-ins audit their `users` rows separately)."""
    stmt = select(func.count()).select_from(audit_log).where(~SIGN_INS)
    with engine.connect() as connection:
        return int(connection.execute(stmt).scalar_one())


def audit_rows(engine: Engine, table: Table, row_id: str) -> list[dict[str, Any]]:
    """The audit records of one row, oldest first, with before/after decoded."""
    stmt = (select(audit_log).where(audit_log.c.table_name == table.name, audit_log.c.row_id == row_id)
            .order_by(audit_log.c.occurred_at, audit_log.c.id))
    with engine.connect() as connection:
        found = [dict(row._mapping) for row in connection.execute(stmt)]
    for row in found:
        for column in ("before_json", "after_json"):
            row[column] = json.loads(row[column]) if row[column] is not None else None
    return found
