"""Loaders of reference data: users, advertisers, agencies by id."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from sqlalchemy import Table

from gateway.store import party, user
from gateway.store.tables import advertisers, agencies
from loaders.base import Loader
from resolvers.party import Advertiser, Agency
from resolvers.rows import RowLike
from resolvers.user import User


class UserByIdLoader(Loader[str, User | None]):
    async def batch_load_fn(self, keys: Sequence[str]) -> list[User | None]:
        rows = await self.db.read(user.get_by_ids, principal=self.loaders.principal, ids=keys)
        found: dict[str, User] = {row.id: User.from_row(row._mapping) for row in rows}
        return [found.get(key) for key in keys]


class PartyByIdLoader(Loader[str, Any]):
    """Advertisers or agencies by id."""

    table: ClassVar[Table]

    def make(self, row: RowLike) -> Any:
        """The GraphQL object of a row."""
        raise NotImplementedError

    async def batch_load_fn(self, keys: Sequence[str]) -> list[Any]:
        rows = await self.db.read(party.get_by_ids, principal=self.loaders.principal, table=self.table,
                                  ids=keys)
        found = {row.id: self.make(row._mapping) for row in rows}
        return [found.get(key) for key in keys]


class AdvertiserByIdLoader(PartyByIdLoader):
    table = advertisers

    def make(self, row: RowLike) -> Advertiser:
        return Advertiser.from_row(row)


class AgencyByIdLoader(PartyByIdLoader):
    table = agencies

    def make(self, row: RowLike) -> Agency:
        return Agency.from_row(row)
