"""Keeps `users` in step with the identity provider and binds claims to a Principal."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import replace
from typing import Any

from sqlalchemy import Connection, Row
from sqlalchemy.exc import IntegrityError

from auth.principal import Claims, Principal
from gateway.store import user as user_store
from gateway.store.batch import WriteBatch
from gateway.store.database import Database

CACHE_LIMIT = 10_000
SEEN_EVERY = dt.timedelta(hours=1)
"""How stale `users.last_seen_at` may get: a known caller's row is written at most once per this."""


def profile(claims: Claims) -> dict[str, Any]:
    """The `users` columns the claims decide (region only when the token names one)."""
    values: dict[str, Any] = {
        "email": claims.email, "display_name": claims.name,
        "roles": ",".join(sorted(role.value for role in claims.roles)),
    }
    if claims.region is not None:
        values["region"] = claims.region
    return values


def sync(connection: Connection, *, claims: Claims) -> tuple[str, str | None]:
    """Create or refresh the caller's row; returns (user id, stored region)."""
    return refresh(connection, claims=claims, row=user_store.get_by_sub(connection, sub=claims.sub))


def refresh(connection: Connection, *, claims: Claims, row: Row[Any] | None) -> tuple[str, str | None]:
    """Create the caller's row (no `row` yet) or bring `row` in step with the claims."""
    values, now = profile(claims), dt.datetime.now(dt.UTC)
    if row is None:
        return user_store.create(connection, sub=claims.sub, values={**values, "last_seen_at": now}), \
            claims.region
    changed = {key: value for key, value in values.items() if row._mapping[key] != value}
    if changed or not recently_seen(row):
        changed["last_seen_at"] = now
    if changed:
        user_store.update(connection, before=row, values=changed)
    return row.id, changed.get("region", row.region)


def sync_all(connection: Connection, *, items: list[Claims]) -> list[tuple[str, str | None]]:
    """`sync` for each caller of a batch, in order (a caller twice in it is written once)."""
    stored = user_store.get_by_subs(connection, subs=[claims.sub for claims in items])
    done: dict[str, tuple[str, str | None]] = {}
    for claims in items:
        if claims.sub not in done:
            done[claims.sub] = refresh(connection, claims=claims, row=stored.get(claims.sub))
    return [done[claims.sub] for claims in items]


def unchanged(row: Any, claims: Claims) -> bool:
    """True when the stored row already says what the claims say, and was seen lately."""
    return recently_seen(row) and all(row._mapping[key] == value for key, value in profile(claims).items())


def recently_seen(row: Any) -> bool:
    """True when the row's `last_seen_at` is within SEEN_EVERY."""
    seen: dt.datetime | None = row._mapping.get("last_seen_at")
    return seen is not None and dt.datetime.now(dt.UTC) - seen < SEEN_EVERY


class UserDirectory:
    """Claims -> Principal; writes the users row only on first sight or when the claims change.

    A known caller is read, not written, after a restart. New and changed callers are written in batches
    (gateway/store/batch.py): a crowd signing in together costs a few transactions, not one each.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self.batch: WriteBatch[Claims, tuple[str, str | None]] = WriteBatch(db, sync_all)
        # sub -> (the claims last written, user id, stored region, when): claims that change back are
        # written too, and a caller still around after SEEN_EVERY has `last_seen_at` brought up to date.
        self._known: dict[str, tuple[Claims, str, str | None, float]] = {}

    async def principal(self, claims: Claims) -> Principal:
        """The Principal for verified claims."""
        seen = replace(claims, expires_at=None)
        known = self._known.get(claims.sub)
        stale = known is not None and time.monotonic() - known[3] >= SEEN_EVERY.total_seconds()
        if known is None or known[0] != seen or stale:
            if len(self._known) >= CACHE_LIMIT:
                self._known.clear()
            known = self._known[claims.sub] = (seen, *await self._sync(claims), time.monotonic())
        _, user_id, region, _ = known
        return Principal(user_id=user_id, sub=claims.sub, email=claims.email, name=claims.name,
                         roles=claims.roles, region=claims.region or region)

    async def _sync(self, claims: Claims) -> tuple[str, str | None]:
        row = await self.db.lookup(user_store.get_by_sub, sub=claims.sub)
        if row is not None and unchanged(row, claims):
            return row.id, row.region
        try:
            return await self.batch.submit(claims)
        except IntegrityError:
            # Another process created one of the batch's users meanwhile: now each finds its row.
            return await self.batch.submit(claims)
