"""Data access for `users`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Row, select

from auth.principal import Principal
from auth.rows import visible_users
from gateway.ids import new_id
from gateway.store.tables import users


def get_by_ids(connection: Connection, *, principal: Principal, ids: Sequence[str]) -> list[Row[Any]]:
    """Users with the given ids that the caller may see."""
    stmt = select(users).where(users.c.id.in_(ids), visible_users(principal))
    return list(connection.execute(stmt).all())


def get_by_sub(connection: Connection, *, sub: str) -> Row[Any] | None:
    """The user with identity-provider subject `sub`."""
    return connection.execute(select(users).where(users.c.sub == sub)).first()


def create(connection: Connection, *, values: dict[str, Any]) -> str:
    """Insert a user; returns its new id."""
    now = dt.datetime.now(dt.UTC)
    user_id = new_id()
    connection.execute(
        users.insert().values(id=user_id, active=True, created_at=now, updated_at=now, **values)
    )
    return user_id


def update(connection: Connection, *, user_id: str, values: dict[str, Any]) -> None:
    """Change a user's profile columns."""
    now = dt.datetime.now(dt.UTC)
    connection.execute(users.update().where(users.c.id == user_id).values(updated_at=now, **values))
