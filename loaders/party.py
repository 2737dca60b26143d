"""Loaders of reference data: users, advertisers, agencies by id, through the app's reference cache."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from sqlalchemy import Table

from auth.rows import visible_reference, visible_users
from gateway.core.tables import advertisers, agencies, users
from gateway.store import party, user
from gateway.store.rows import RowLike
from loaders.base import Loader
from loaders.reference import sees_every_row, through_cache


class UserByIdLoader(Loader[str, RowLike | None]):
    async def batch_load_fn(self, keys: Sequence[str]) -> list[RowLike | None]:
        shared = sees_every_row(visible_users(self.loaders.principal))
        return await through_cache(self.loaders.reference_cache if shared else None, users.name, keys,
                                   self._fetch)

    async def _fetch(self, keys: Sequence[str]) -> dict[str, RowLike]:
        rows = await self.db.lookup(user.get_by_ids, principal=self.loaders.principal, ids=keys)
        return {row.id: dict(row._mapping) for row in rows}  # plain: the cache outlives the result


class PartyByIdLoader(Loader[str, RowLike | None]):
    """Advertisers or agencies by id."""

    table: ClassVar[Table]

    async def batch_load_fn(self, keys: Sequence[str]) -> list[RowLike | None]:
        shared = sees_every_row(visible_reference(self.loaders.principal))
        return await through_cache(self.loaders.reference_cache if shared else None, self.table.name, keys,
                                   self._fetch)

    async def _fetch(self, keys: Sequence[str]) -> dict[str, RowLike]:
        rows = await self.db.lookup(party.get_by_ids, principal=self.loaders.principal, table=self.table,
                                  ids=keys)
        return {row.id: dict(row._mapping) for row in rows}  # plain: the cache outlives the result


class AdvertiserByIdLoader(PartyByIdLoader):
    table = advertisers


class AgencyByIdLoader(PartyByIdLoader):
    table = agencies
