"""Loaders of reference data: users, advertisers, agencies by id, through the app's reference cache."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from sqlalchemy import Table

from auth.rows import visible_reference, visible_users
from gateway.store import party, user
from gateway.store.tables import advertisers, agencies, users
from loaders.base import Loader
from loaders.reference import sees_every_row, through_cache
from resolvers.party import Advertiser, Agency
from resolvers.rows import RowLike
from resolvers.user import User


class UserByIdLoader(Loader[str, User | None]):
    async def batch_load_fn(self, keys: Sequence[str]) -> list[User | None]:
        shared = sees_every_row(visible_users(self.loaders.principal))
        return await through_cache(self.loaders.reference_cache if shared else None, users.name, keys,
                                   self._fetch)

    async def _fetch(self, keys: Sequence[str]) -> dict[str, User]:
        rows = await self.db.lookup(user.get_by_ids, principal=self.loaders.principal, ids=keys)
        return {row.id: User.from_row(row._mapping) for row in rows}


class PartyByIdLoader(Loader[str, Any]):
    """Advertisers or agencies by id."""

    table: ClassVar[Table]

    def make(self, row: RowLike) -> Any:
        """The GraphQL object of a row."""
        raise NotImplementedError

    async def batch_load_fn(self, keys: Sequence[str]) -> list[Any]:
        shared = sees_every_row(visible_reference(self.loaders.principal))
        return await through_cache(self.loaders.reference_cache if shared else None, self.table.name, keys,
                                   self._fetch)

    async def _fetch(self, keys: Sequence[str]) -> dict[str, Any]:
        rows = await self.db.lookup(party.get_by_ids, principal=self.loaders.principal, table=self.table,
                                  ids=keys)
        return {row.id: self.make(row._mapping) for row in rows}


class AdvertiserByIdLoader(PartyByIdLoader):
    table = advertisers

    def make(self, row: RowLike) -> Advertiser:
        return Advertiser.from_row(row)


class AgencyByIdLoader(PartyByIdLoader):
    table = agencies

    def make(self, row: RowLike) -> Agency:
        return Agency.from_row(row)
