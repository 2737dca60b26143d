"""Deal and the types that hang off it, and the `deal` and `deals` queries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types import Info

from auth.fields import CanSeeIncentives, CanSeeMargins
from gateway.store import pricing
from gateway.store.rows import RowLike
from loaders.records import Joined
from resolvers.common.context import Context
from resolvers.common.enums import Channel, DealStatus, DealType, IncentiveType, IncentiveUnit
from resolvers.common.node import Node
from resolvers.common.objects import Objects, lazy_class
from resolvers.common.selection import selects
from resolvers.deal.guidance import PricingGuidance, guidance
from resolvers.user.types import User

# The domains that refer back to deals are named lazily, by module: the schema's own graph, and no import
# cycle. To mypy they are Any.
if TYPE_CHECKING:
    DealApproval = Any
    Advertiser = Any
    Agency = Any
    ScopingRequest = Any

Approval = Annotated["DealApproval", strawberry.lazy("resolvers.approval.types")]
AdvertiserRef = Annotated["Advertiser", strawberry.lazy("resolvers.party.types")]
AgencyRef = Annotated["Agency", strawberry.lazy("resolvers.party.types")]
ScopingRef = Annotated["ScopingRequest", strawberry.lazy("resolvers.scoping.types")]
approval_type = lazy_class("resolvers.approval.types", "DealApproval")
advertiser_type = lazy_class("resolvers.party.types", "Advertiser")
agency_type = lazy_class("resolvers.party.types", "Agency")
scoping_type = lazy_class("resolvers.scoping.types", "ScopingRequest")


@strawberry.type
class DealTier:
    id: strawberry.ID
    tier_number: int
    min_spend: Decimal
    max_spend: Decimal | None
    cpm: Decimal
    margin_pct: Decimal | None = strawberry.field(
        permission_classes=[CanSeeMargins],
        description="Restricted: null with a FORBIDDEN error for roles that may not see margins.",
    )

    @classmethod
    def from_row(cls, row: RowLike) -> DealTier:
        """A tier from a `deal_tiers` row."""
        return cls(id=strawberry.ID(row["id"]), tier_number=row["tier_number"],
                   min_spend=row["min_spend"], max_spend=row["max_spend"], cpm=row["cpm"],
                   margin_pct=row["margin_pct"])


@strawberry.type
class IncentiveValue:
    id: strawberry.ID
    type: IncentiveType
    unit: IncentiveUnit
    value: Decimal
    description: str | None

    @classmethod
    def from_row(cls, row: RowLike) -> IncentiveValue:
        """An incentive from an `incentive_values` row."""
        return cls(id=strawberry.ID(row["id"]), type=IncentiveType(row["type"]),
                   unit=IncentiveUnit(row["unit"]), value=row["value"], description=row["description"])


@strawberry.type
class DealStatusChange:
    id: strawberry.ID
    from_status: DealStatus | None
    to_status: DealStatus
    changed_by: User
    reason: str | None
    changed_at: dt.datetime

    @classmethod
    def from_joined(cls, change: Joined, objects: Objects) -> DealStatusChange:
        """A status change from a `deal_status_history` row joined with its user."""
        row = change.row
        before = row["from_status"]
        return cls(id=strawberry.ID(row["id"]), from_status=DealStatus(before) if before else None,
                   to_status=DealStatus(row["to_status"]), changed_by=objects.must(User, change.user),
                   reason=row["reason"], changed_at=row["changed_at"])


@strawberry.type
class Deal(Node):
    id: strawberry.ID
    deal_number: str
    name: str
    status: DealStatus
    deal_type: DealType
    channels: list[Channel]
    region: str
    currency: str
    total_value: Decimal
    start_date: dt.date
    end_date: dt.date
    target_margin_pct: Decimal | None = strawberry.field(
        permission_classes=[CanSeeMargins],
        description="Restricted: null with a FORBIDDEN error for roles that may not see margins.",
    )
    floor_cpm: Decimal | None = strawberry.field(
        permission_classes=[CanSeeMargins], description="Restricted like targetMarginPct."
    )
    non_standard_terms: str | None
    notes: str | None
    version: int = strawberry.field(
        description="Optimistic-concurrency token: every change increments it."
    )
    created_at: dt.datetime
    updated_at: dt.datetime
    submitted_at: dt.datetime | None
    owner_id: strawberry.Private[str]
    advertiser_id: strawberry.Private[str]
    agency_id: strawberry.Private[str | None]

    @classmethod
    def from_row(cls, row: RowLike) -> Deal:
        """A Deal from a `deals` row."""
        return cls(
            id=strawberry.ID(row["id"]), deal_number=row["deal_number"], name=row["name"],
            status=DealStatus(row["status"]), deal_type=DealType(row["deal_type"]),
            channels=[Channel(name) for name in row["channels"].split(",") if name],
            region=row["region"], currency=row["currency"], total_value=row["total_value"],
            start_date=row["start_date"], end_date=row["end_date"],
            target_margin_pct=row["target_margin_pct"], floor_cpm=row["floor_cpm"],
            non_standard_terms=row["non_standard_terms"], notes=row["notes"], version=row["version"],
            created_at=row["created_at"], updated_at=row["updated_at"],
            submitted_at=row["submitted_at"], owner_id=row["owner_id"],
            advertiser_id=row["advertiser_id"], agency_id=row["agency_id"],
        )

    @strawberry.field
    async def owner(self, info: Info[Context, None]) -> User:
        return await info.context.objects.must_load(User, info.context.loaders.user_by_id, self.owner_id)

    @strawberry.field
    async def advertiser(self, info: Info[Context, None]) -> AdvertiserRef:
        context = info.context
        return await context.objects.must_load(advertiser_type(), context.loaders.advertiser_by_id,
                                               self.advertiser_id)

    @strawberry.field
    async def agency(self, info: Info[Context, None]) -> AgencyRef | None:
        if self.agency_id is None:
            return None
        context = info.context
        return await context.objects.load(agency_type(), context.loaders.agency_by_id, self.agency_id)

    @strawberry.field
    async def scoping_request(self, info: Info[Context, None]) -> ScopingRef | None:
        context = info.context
        return await context.objects.load(scoping_type(), context.loaders.scoping_request_by_deal_id, self.id)

    @strawberry.field
    async def tiers(self, info: Info[Context, None]) -> list[DealTier]:
        return [DealTier.from_row(row) for row in await info.context.loaders.tiers_by_deal_id.load(self.id)]

    @strawberry.field(
        permission_classes=[CanSeeIncentives],
        description="Restricted: null with a FORBIDDEN error for roles that may not see incentives.",
    )
    async def incentives(self, info: Info[Context, None]) -> list[IncentiveValue] | None:
        rows = await info.context.loaders.incentives_by_deal_id.load(self.id)
        return [IncentiveValue.from_row(row) for row in rows]

    @strawberry.field
    async def approvals(self, info: Info[Context, None]) -> list[Approval]:
        loaders, objects = info.context.loaders, info.context.objects
        if selects(info, "actions"):  # read them in the same round trip as the approvals
            records = await loaders.approvals_with_actions_by_deal_id.load(self.id)
        else:
            records = await loaders.approvals_by_deal_id.load(self.id)
        approval = approval_type()
        return [approval.from_record(record, objects) for record in records]

    @strawberry.field
    async def status_history(self, info: Info[Context, None]) -> list[DealStatusChange]:
        context = info.context
        changes = await context.loaders.status_changes_by_deal_id.load(self.id)
        return [DealStatusChange.from_joined(change, context.objects) for change in changes]

    @strawberry.field(description="Guidance from the closed deals of this deal's segment: null with an "
                                  "INSUFFICIENT_DATA error below the minimum sample.")
    async def pricing_guidance(self, info: Info[Context, None]) -> PricingGuidance | None:
        segment = pricing.segment_of(deal_type=self.deal_type.value,
                                     channels=[channel.value for channel in self.channels],
                                     region=self.region, total_value=self.total_value)
        return await guidance(info, pricing.GuidanceRequest(segment, self.total_value, exclude_id=self.id))
