"""The system's own users row: the actor of what the gateway does by itself (carried-over approvals).

Created by a migration with a fixed id, so every store, worker and replica names the same row. Its
`sub` can never come from a token (dev subjects start `dev|`, Okta's are Okta ids), and it holds no role.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection

from gateway.core.tables import users
from gateway.store.sqlfunc import insert_absent

SYSTEM_USER_ID = "00000000-0000-7000-8000-000000000000"
SYSTEM_SUB = "system|deal-desk"
SYSTEM_CREATED = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def ensure(connection: Connection) -> None:
    """Insert the system user unless it is there (migration step)."""
    values = {"id": SYSTEM_USER_ID, "sub": SYSTEM_SUB, "email": "system@deal-desk.invalid",
              "display_name": "Deal Desk (system)", "region": None, "roles": "", "active": True,
              "created_at": SYSTEM_CREATED, "updated_at": SYSTEM_CREATED}
    connection.execute(insert_absent(connection.dialect.name, users, values, key="id"))
