"""Loaders of scoping requests, under the caller's row rules."""

from __future__ import annotations

from collections.abc import Sequence

from gateway.store import scoping as scoping_store
from loaders.base import Loader
from resolvers.scoping import ScopingRequest


class ScopingRequestByIdLoader(Loader[str, ScopingRequest | None]):
    async def batch_load_fn(self, keys: Sequence[str]) -> list[ScopingRequest | None]:
        rows = await self.db.lookup(scoping_store.get_by_ids, principal=self.loaders.principal, ids=keys)
        found = {row.id: ScopingRequest.from_row(row._mapping) for row in rows}
        return [found.get(key) for key in keys]


class ScopingRequestByDealIdLoader(Loader[str, ScopingRequest | None]):
    async def batch_load_fn(self, keys: Sequence[str]) -> list[ScopingRequest | None]:
        rows = await self.db.lookup(scoping_store.get_by_deal_ids, principal=self.loaders.principal,
                                  deal_ids=keys)
        found = {row.converted_deal_id: ScopingRequest.from_row(row._mapping) for row in rows}
        return [found.get(key) for key in keys]
