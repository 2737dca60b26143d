"""ScopingRequest and its queries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import strawberry
from strawberry.types import Info

from gateway.store.rows import RowLike
from resolvers.common.context import Context
from resolvers.common.enums import ScopingStatus
from resolvers.common.node import Node
from resolvers.deal.types import Deal
from resolvers.party.types import Advertiser, Agency
from resolvers.user.types import User


@strawberry.type
class ScopingRequest(Node):
    id: strawberry.ID
    title: str
    objective: str | None
    status: ScopingStatus
    estimated_budget: Decimal | None
    currency: str
    desired_start: dt.date | None
    desired_end: dt.date | None
    created_at: dt.datetime
    updated_at: dt.datetime
    requested_by_id: strawberry.Private[str]
    advertiser_id: strawberry.Private[str]
    agency_id: strawberry.Private[str | None]
    converted_deal_id: strawberry.Private[str | None]

    @classmethod
    def from_row(cls, row: RowLike) -> ScopingRequest:
        """A ScopingRequest from a `deal_scoping_requests` row."""
        return cls(
            id=strawberry.ID(row["id"]), title=row["title"], objective=row["objective"],
            status=ScopingStatus(row["status"]), estimated_budget=row["estimated_budget"],
            currency=row["currency"], desired_start=row["desired_start"], desired_end=row["desired_end"],
            created_at=row["created_at"], updated_at=row["updated_at"],
            requested_by_id=row["requested_by"], advertiser_id=row["advertiser_id"],
            agency_id=row["agency_id"], converted_deal_id=row["converted_deal_id"],
        )

    @strawberry.field
    async def requested_by(self, info: Info[Context, None]) -> User:
        context = info.context
        return await context.objects.must_load(User, context.loaders.user_by_id, self.requested_by_id)

    @strawberry.field
    async def advertiser(self, info: Info[Context, None]) -> Advertiser:
        context = info.context
        return await context.objects.must_load(Advertiser, context.loaders.advertiser_by_id,
                                               self.advertiser_id)

    @strawberry.field
    async def agency(self, info: Info[Context, None]) -> Agency | None:
        if self.agency_id is None:
            return None
        return await info.context.objects.load(Agency, info.context.loaders.agency_by_id, self.agency_id)

    @strawberry.field
    async def converted_deal(self, info: Info[Context, None]) -> Deal | None:
        if self.converted_deal_id is None:
            return None
        return await info.context.objects.load(Deal, info.context.loaders.deal_by_id, self.converted_deal_id)
