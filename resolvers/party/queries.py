"""The party queries."""


from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy import Table
from strawberry.types import Info

from gateway.core.ids import require_id
from gateway.core.tables import advertisers, agencies
from gateway.store import party
from resolvers.common.connection import Connection, paginate
from resolvers.common.context import Context
from resolvers.common.validation import no_nul
from resolvers.party.types import Advertiser, Agency


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
