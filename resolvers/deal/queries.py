"""The deal queries."""


from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import strawberry
from sqlalchemy import Row
from strawberry.types import Info

from gateway.core.ids import require_id
from gateway.store import deal as deal_store
from resolvers.common.connection import Connection, build, paginate
from resolvers.common.context import Context
from resolvers.deal.filter import DealFilter, DealOrder, criteria, ordering
from resolvers.deal.guidance import PricingGuidance, PricingGuidanceInput, guidance, request_of
from resolvers.deal.types import (
    Deal,
)


@strawberry.type
class DealQuery:
    @strawberry.field
    async def deal(self, info: Info[Context, None], id: strawberry.ID) -> Deal | None:
        context = info.context
        return await context.objects.load(Deal, context.loaders.deal_by_id, require_id(id, "id"))

    @strawberry.field
    async def deals(
        self, info: Info[Context, None], filter: DealFilter | None = None,
        order_by: list[DealOrder] | None = None, first: int | None = None, after: str | None = None,
    ) -> Connection[Deal]:
        return await deal_page(info.context, criteria(filter), ordering(order_by), first, after)

    @strawberry.field(description="Guidance for a deal not yet created.")
    async def pricing_guidance(self, info: Info[Context, None],
                               input: PricingGuidanceInput) -> PricingGuidance | None:
        request = request_of(input, default_region=info.context.principal.region)
        return await guidance(info, request)


async def deal_page(
    context: Context, where: deal_store.DealCriteria, order: tuple[tuple[str, bool], ...],
    first: int | None, after: str | None,
) -> Connection[Deal]:
    """One page of the deals the caller may see, with a lazily counted total."""
    db, principal = context.db, context.principal
    return await paginate(
        context.settings, first, after,
        keys=deal_store.sort_keys(order), tag=deal_store.order_tag(order),
        fetch=lambda page: db.read(deal_store.get_page, principal=principal, criteria=where,
                                   keys=deal_store.sort_keys(order), page=page),
        count=lambda: db.read(deal_store.count, principal=principal, criteria=where),
        to_nodes=lambda rows: deals_of(context, rows),
    )


def deals_of(context: Context, rows: Sequence[Row[Any]]) -> list[Deal]:
    """The Deals of rows joined with owner, advertiser and agency (which prime their loaders)."""
    objects = context.objects
    return [objects.of(Deal, deal) for deal in context.loaders.prime_deals(rows)]


async def parent_deals(context: Context, column: str, parent_id: str, first: int | None,
                       after: str | None) -> Connection[Deal]:
    """One page of an advertiser's or agency's deals (`column` names which), batched across parents."""
    loaders = context.loaders
    loader = loaders.deals_by_parent(column, first, after)
    rows = await loader.load(parent_id)

    async def count() -> int:
        return await loaders.deal_count_by_parent(column).load(parent_id)

    nodes = [context.objects.of(Deal, row._mapping) for row in rows]
    return build(rows, nodes, page=loader.page, keys=loader.keys, tag=loader.tag, count=count)
