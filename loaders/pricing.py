"""The loader of pricing guidance: segment rows per lookup, with the similar deals when asked for."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row

from gateway.store import pricing
from loaders.base import Loader, grouped

# Each lookup of the similar deals binds about 30 values; Databricks allows 255 per statement.
SIMILAR_BATCH = {"databricks": 6}


class PricingGuidanceByRequestLoader(Loader[pricing.GuidanceRequest, list[Row[Any]]]):
    """The rows of each lookup: its segment at every level and the clock; with `similar` > 0, the chosen
    level's row once per similar deal the caller may see (those deals prime the deal loader)."""

    def __init__(self, loaders: Any, *, min_sample: int, similar: int) -> None:
        super().__init__(loaders)
        self.min_sample, self.similar = min_sample, similar
        if similar > 0 and loaders.db.dialect in SIMILAR_BATCH:
            self.max_batch_size = SIMILAR_BATCH[loaders.db.dialect]

    async def batch_load_fn(self, keys: Sequence[pricing.GuidanceRequest]) -> list[list[Row[Any]]]:
        if self.similar == 0:
            rows = await self.db.lookup(pricing.get_segments, requests=keys)
            return [rows for _ in keys]  # each lookup picks its own segment's rows (pricing.figures_of)
        rows = await self.db.lookup(pricing.get_segments_with_similar, principal=self.loaders.principal,
                                    requests=keys, min_sample=self.min_sample, similar=self.similar)
        self.loaders.prime_deals([row for row in rows if row.id is not None])
        by_request = grouped(rows, lambda row: row.request)
        return [by_request[index] for index in range(len(keys))]
