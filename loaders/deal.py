"""Loaders of deals (under the caller's row rules) and of what hangs off a deal."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row

from gateway.pagination import Page
from gateway.store import children
from gateway.store import deal as deal_store
from loaders.base import Loader, grouped
from resolvers import connection
from resolvers.deal import Deal, DealStatusChange, DealTier, IncentiveValue
from resolvers.rows import Relation


class DealByIdLoader(Loader[str, Deal | None]):
    async def batch_load_fn(self, keys: Sequence[str]) -> list[Deal | None]:
        rows = await self.db.lookup(deal_store.get_by_ids, principal=self.loaders.principal, ids=keys)
        found: dict[str, Deal] = {deal.id: deal for deal in self.loaders.deals_from_rows(rows)}
        return [found.get(key) for key in keys]


class DealsByParentLoader(Loader[str, connection.Connection[Deal]]):
    """One page of deals per advertiser or agency, for one (first, after) argument pair."""

    ORDER = deal_store.DEFAULT_ORDER

    def __init__(self, loaders: Any, column: str, page: Page) -> None:
        super().__init__(loaders)
        self.column, self.page = column, page
        self.keys, self.tag = deal_store.sort_keys(self.ORDER), deal_store.order_tag(self.ORDER)

    async def batch_load_fn(self, keys: Sequence[str]) -> list[connection.Connection[Deal]]:
        rows = await self.db.lookup(deal_store.get_pages_by, principal=self.loaders.principal,
                                  column=self.column, parent_ids=keys, keys=self.keys, page=self.page)
        by_parent = grouped(rows, lambda row: row._mapping[self.column])
        return [self._connection(key, by_parent[key]) for key in keys]

    def _connection(self, parent_id: str, rows: list[Row[Any]]) -> connection.Connection[Deal]:
        async def count() -> int:
            return await self.loaders.deal_count_by_parent(self.column).load(parent_id)

        nodes = self.loaders.deals_from_rows(rows)
        return connection.build(rows, nodes, page=self.page, keys=self.keys, tag=self.tag, count=count)


class DealCountByParentLoader(Loader[str, int]):
    def __init__(self, loaders: Any, column: str) -> None:
        super().__init__(loaders)
        self.column = column

    async def batch_load_fn(self, keys: Sequence[str]) -> list[int]:
        counts = await self.db.lookup(deal_store.count_by, principal=self.loaders.principal,
                                    column=self.column, parent_ids=keys)
        return [counts.get(key, 0) for key in keys]


class TiersByDealIdLoader(Loader[str, list[DealTier]]):
    async def batch_load_fn(self, keys: Sequence[str]) -> list[list[DealTier]]:
        rows = await self.db.lookup(children.tiers, deal_ids=keys)
        by_deal = grouped(rows, lambda row: row.deal_id)
        return [[DealTier.from_row(r._mapping) for r in by_deal[key]] for key in keys]


class IncentivesByDealIdLoader(Loader[str, list[IncentiveValue]]):
    async def batch_load_fn(self, keys: Sequence[str]) -> list[list[IncentiveValue]]:
        rows = await self.db.lookup(children.incentives, deal_ids=keys)
        by_deal = grouped(rows, lambda row: row.deal_id)
        return [[IncentiveValue.from_row(r._mapping) for r in by_deal[key]] for key in keys]


class StatusChangesByDealIdLoader(Loader[str, list[DealStatusChange]]):
    async def batch_load_fn(self, keys: Sequence[str]) -> list[list[DealStatusChange]]:
        rows = await self.db.lookup(children.history, deal_ids=keys)
        by_deal = grouped(rows, lambda row: row.deal_id)
        changed_by = Relation(rows, "user")
        return [[self._change(row, changed_by) for row in by_deal[key]] for key in keys]

    def _change(self, row: Row[Any], changed_by: Relation) -> DealStatusChange:
        return DealStatusChange.from_row(row._mapping, self.loaders.user_from(changed_by(row)))

