"""Advertiser and Agency, reference data every role may read, with their deals."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from gateway.store.rows import RowLike
from resolvers.common.connection import Connection
from resolvers.common.context import Context
from resolvers.common.node import Node
from resolvers.deal.queries import parent_deals
from resolvers.deal.types import Deal


@strawberry.type
class Advertiser(Node):
    id: strawberry.ID
    name: str
    industry: str | None
    region: str | None

    @classmethod
    def from_row(cls, row: RowLike) -> Advertiser:
        """An Advertiser from an `advertisers` row."""
        return cls(id=strawberry.ID(row["id"]), name=row["name"], industry=row["industry"],
                   region=row["region"])

    @strawberry.field
    async def deals(
        self, info: Info[Context, None], first: int | None = None, after: str | None = None
    ) -> Connection[Deal]:
        return await parent_deals(info.context, "advertiser_id", self.id, first, after)


@strawberry.type
class Agency(Node):
    id: strawberry.ID
    name: str
    holding_company: str | None
    region: str | None

    @classmethod
    def from_row(cls, row: RowLike) -> Agency:
        """An Agency from an `agencies` row."""
        return cls(id=strawberry.ID(row["id"]), name=row["name"],
                   holding_company=row["holding_company"], region=row["region"])

    @strawberry.field
    async def deals(
        self, info: Info[Context, None], first: int | None = None, after: str | None = None
    ) -> Connection[Deal]:
        return await parent_deals(info.context, "agency_id", self.id, first, after)
