"""Loaders of scoping requests, under the caller's row rules."""

from __future__ import annotations

from collections.abc import Sequence

from gateway.store import scoping as scoping_store
from gateway.store.rows import RowLike
from loaders.base import Loader


class ScopingRequestByIdLoader(Loader[str, RowLike | None]):
    async def batch_load_fn(self, keys: Sequence[str]) -> list[RowLike | None]:
        rows = await self.db.lookup(scoping_store.get_by_ids, principal=self.loaders.principal, ids=keys)
        found = {row.id: row._mapping for row in rows}
        return [found.get(key) for key in keys]


class ScopingRequestByDealIdLoader(Loader[str, RowLike | None]):
    async def batch_load_fn(self, keys: Sequence[str]) -> list[RowLike | None]:
        rows = await self.db.lookup(scoping_store.get_by_deal_ids, principal=self.loaders.principal,
                                  deal_ids=keys)
        found = {row.converted_deal_id: row._mapping for row in rows}
        return [found.get(key) for key in keys]
