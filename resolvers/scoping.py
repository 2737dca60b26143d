"""ScopingRequest and its queries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.ids import require_id
from gateway.store import scoping as scoping_store
from gateway.store.rows import RowLike
from resolvers.connection import Connection, paginate
from resolvers.deal import Deal
from resolvers.enums import ScopingStatus
from resolvers.node import Node
from resolvers.party import Advertiser, Agency
from resolvers.user import User


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


@strawberry.type
class ScopingQuery:
    @strawberry.field
    async def scoping_request(self, info: Info[Context, None], id: strawberry.ID) -> ScopingRequest | None:
        context = info.context
        return await context.objects.load(ScopingRequest, context.loaders.scoping_request_by_id,
                                          require_id(id, "id"))

    @strawberry.field
    async def scoping_requests(
        self, info: Info[Context, None], status: list[ScopingStatus] | None = None,
        first: int | None = None, after: str | None = None,
    ) -> Connection[ScopingRequest]:
        statuses = tuple(s.value for s in status or ())
        return await scoping_page(info.context, statuses, first, after)


async def scoping_page(
    context: Context, statuses: tuple[str, ...], first: int | None, after: str | None
) -> Connection[ScopingRequest]:
    """One page of the scoping requests the caller may see, newest first."""
    db, principal = context.db, context.principal
    return await paginate(
        context.settings, first, after, keys=scoping_store.SORT_KEYS, tag="scoping",
        fetch=lambda page: db.read(scoping_store.get_page, principal=principal, statuses=statuses,
                                   page=page),
        count=lambda: db.read(scoping_store.count, principal=principal, statuses=statuses),
        to_nodes=lambda rows: [context.objects.of(ScopingRequest, row._mapping) for row in rows],
    )
