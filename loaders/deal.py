"""Loaders of deals (under the caller's row rules) and of what hangs off a deal."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row

from gateway.store import children
from gateway.store import deal as deal_store
from gateway.store.pagination import Page
from gateway.store.rows import RowLike
from loaders.base import Loader, grouped
from loaders.records import Joined


class DealByIdLoader(Loader[str, RowLike | None]):
    async def batch_load_fn(self, keys: Sequence[str]) -> list[RowLike | None]:
        rows = await self.db.lookup(deal_store.get_by_ids, principal=self.loaders.principal, ids=keys)
        found = {deal["id"]: deal for deal in self.loaders.prime_deals(rows)}
        return [found.get(key) for key in keys]


class DealsByParentLoader(Loader[str, list[Row[Any]]]):
    """One page of deals per advertiser or agency, for one (first, after) argument pair: the page's
    rows, and one more when there is a next page."""

    ORDER = deal_store.DEFAULT_ORDER

    def __init__(self, loaders: Any, column: str, page: Page) -> None:
        super().__init__(loaders)
        self.column, self.page = column, page
        self.keys, self.tag = deal_store.sort_keys(self.ORDER), deal_store.order_tag(self.ORDER)

    async def batch_load_fn(self, keys: Sequence[str]) -> list[list[Row[Any]]]:
        rows = await self.db.lookup(deal_store.get_pages_by, principal=self.loaders.principal,
                                  column=self.column, parent_ids=keys, keys=self.keys, page=self.page)
        self.loaders.prime_deals(rows)
        by_parent = grouped(rows, lambda row: row._mapping[self.column])
        return [by_parent[key] for key in keys]


class DealCountByParentLoader(Loader[str, int]):
    def __init__(self, loaders: Any, column: str) -> None:
        super().__init__(loaders)
        self.column = column

    async def batch_load_fn(self, keys: Sequence[str]) -> list[int]:
        counts = await self.db.lookup(deal_store.count_by, principal=self.loaders.principal,
                                    column=self.column, parent_ids=keys)
        return [counts.get(key, 0) for key in keys]


class TiersByDealIdLoader(Loader[str, list[RowLike]]):
    async def batch_load_fn(self, keys: Sequence[str]) -> list[list[RowLike]]:
        rows = await self.db.lookup(children.tiers, deal_ids=keys)
        by_deal = grouped(mappings(rows), lambda row: row["deal_id"])
        return [by_deal[key] for key in keys]


class IncentivesByDealIdLoader(Loader[str, list[RowLike]]):
    async def batch_load_fn(self, keys: Sequence[str]) -> list[list[RowLike]]:
        rows = await self.db.lookup(children.incentives, deal_ids=keys)
        by_deal = grouped(mappings(rows), lambda row: row["deal_id"])
        return [by_deal[key] for key in keys]


class StatusChangesByDealIdLoader(Loader[str, list[Joined]]):
    async def batch_load_fn(self, keys: Sequence[str]) -> list[list[Joined]]:
        rows = await self.db.lookup(children.history, deal_ids=keys)
        by_deal = grouped(self.loaders.prime_joined(rows), lambda change: change.row["deal_id"])
        return [by_deal[key] for key in keys]


def mappings(rows: Sequence[Row[Any]]) -> list[RowLike]:
    """The rows as mappings by column name."""
    return [row._mapping for row in rows]
