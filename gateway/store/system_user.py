"""The system's own users row: the actor of what the gateway does by itself (carried-over approvals).

Written, audited, by the first change that needs it, with a fixed id, so every store, worker and replica
names the same row. Its `sub` can never come from a token (dev subjects start `dev|`, Okta's are Okta
ids), and it holds no role.
"""

from __future__ import annotations

import datetime as dt

from gateway.core.tables import users
from gateway.store.writer import Writer

SYSTEM_USER_ID = "00000000-0000-7000-8000-000000000000"
SYSTEM_SUB = "system|deal-desk"
SYSTEM_CREATED = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def ensure(writer: Writer) -> str:
    """The system user's id, its row inserted first when the store has none yet."""
    if writer.read(users, SYSTEM_USER_ID) is None:
        writer.insert(users, {"id": SYSTEM_USER_ID, "sub": SYSTEM_SUB, "email": "system@deal-desk.invalid",
                              "display_name": "Deal Desk (system)", "region": None, "roles": "",
                              "active": True, "created_at": SYSTEM_CREATED, "updated_at": SYSTEM_CREATED})
    return SYSTEM_USER_ID
