"""Advertiser and Agency, reference data every role may read, with their deals."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy import Table
from strawberry.types import Info

from gateway.context import Context
from gateway.ids import require_id
from gateway.store import party
from gateway.store.rows import RowLike
from gateway.store.tables import advertisers, agencies
from resolvers.connection import Connection, paginate
from resolvers.deal import Deal, parent_deals
from resolvers.node import Node
from resolvers.validation import no_nul


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


@strawberry.type
class PartyQuery:
    @strawberry.field
    async def advertiser(self, info: Info[Context, None], id: strawberry.ID) -> Advertiser | None:
        context = info.context
        return await context.objects.load(Advertiser, context.loaders.advertiser_by_id, require_id(id, "id"))

    @strawberry.field
    async def advertisers(
        self, info: Info[Context, None], search: str | None = None, first: int | None = None,
        after: str | None = None,
    ) -> Connection[Advertiser]:
        return await party_page(info.context, advertisers, Advertiser, search, first, after)

    @strawberry.field
    async def agency(self, info: Info[Context, None], id: strawberry.ID) -> Agency | None:
        context = info.context
        return await context.objects.load(Agency, context.loaders.agency_by_id, require_id(id, "id"))

    @strawberry.field
    async def agencies(
        self, info: Info[Context, None], search: str | None = None, first: int | None = None,
        after: str | None = None,
    ) -> Connection[Agency]:
        return await party_page(info.context, agencies, Agency, search, first, after)


async def party_page(
    context: Context, table: Table, make: type[Advertiser | Agency], search: str | None,
    first: int | None, after: str | None,
) -> Connection[Any]:
    """One page of advertisers or agencies by name, optionally searched."""
    db, principal = context.db, context.principal
    if search is not None:
        no_nul(search, "search")
    return await paginate(
        context.settings, first, after, keys=party.sort_keys(table), tag=f"{table.name}:name",
        fetch=lambda page: db.read(party.get_page, principal=principal, table=table, search=search,
                                   page=page),
        count=lambda: db.read(party.count, principal=principal, table=table, search=search),
        to_nodes=lambda rows: [context.objects.of(make, row._mapping) for row in rows],
    )
