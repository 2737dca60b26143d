"""Data access for `users`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Row, Select, func, literal, select

from auth.principal import Principal
from auth.rows import visible_users
from gateway.core.ids import new_id
from gateway.core.tables import users
from gateway.store import query
from gateway.store.audit import Actor
from gateway.store.writer import Writer


def get_by_ids(connection: Connection, *, principal: Principal, ids: Sequence[str]) -> list[Row[Any]]:
    """Users with the given ids that the caller may see."""
    return query.rows(connection, _by_ids(principal), keys=ids)


@lru_cache(maxsize=query.CALLERS)
def _by_ids(principal: Principal) -> Select[Any]:
    return select(users).where(users.c.id.in_(query.keys()), visible_users(principal))


def get_by_sub(connection: Connection, *, sub: str) -> Row[Any] | None:
    """The user with identity-provider subject `sub`."""
    return connection.execute(select(users).where(users.c.sub == sub)).first()


def get_by_subs(connection: Connection, *, subs: Sequence[str]) -> dict[str, Row[Any]]:
    """The users with these identity-provider subjects, by subject."""
    rows = connection.execute(select(users).where(users.c.sub.in_(list(subs))))
    return {row.sub: row for row in rows}


def create(connection: Connection, *, sub: str, values: dict[str, Any]) -> str:
    """Insert a user, audited as their own first sign-in; returns the new id."""
    actor = Actor(user_id=new_id(), sub=sub)
    row = {"id": actor.user_id, "sub": sub, "active": True, "created_at": actor.at,
           "updated_at": actor.at, **values}
    Writer(connection, actor).insert(users, row)
    return actor.user_id


def update(connection: Connection, *, before: Row[Any], values: dict[str, Any]) -> None:
    """Refresh a user's profile columns from new claims, audited as that user."""
    actor = Actor(user_id=before.id, sub=before.sub)
    Writer(connection, actor).update(users, before, {**values, "updated_at": actor.at})


def holders_of(connection: Connection, *, role: str, region: str | None, seen_since: dt.datetime,
               excluding: str | None = None) -> list[Row[Any]]:
    """Active users whose last-seen roles (seen since `seen_since`) include `role` (of `region`, if given)."""
    listed = literal(",") + users.c.roles + literal(",")  # roles are stored comma-separated
    stmt = select(users).where(users.c.active.is_(True), listed.like(f"%,{role},%"),
                               users.c.last_seen_at >= seen_since)
    if region is not None:
        stmt = stmt.where(users.c.region == region)
    if excluding is not None:
        stmt = stmt.where(users.c.id != excluding)
    return list(connection.execute(stmt.order_by(users.c.email)))


def get_by_email(connection: Connection, *, email: str) -> Row[Any] | None:
    """The active user with this e-mail (case-insensitive), the most recently seen when several."""
    stmt = (select(users).where(func.lower(users.c.email) == email.lower(), users.c.active.is_(True))
            .order_by(users.c.last_seen_at.desc()).limit(1))
    return connection.execute(stmt).first()
