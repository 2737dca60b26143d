"""The deal mutations' inputs."""


from __future__ import annotations

import datetime as dt
from decimal import Decimal

import strawberry

from resolvers.common.enums import Channel, DealType, IncentiveType, IncentiveUnit


@strawberry.input
class DealTierInput:
    min_spend: Decimal
    max_spend: Decimal | None = None
    cpm: Decimal
    margin_pct: Decimal | None = None


@strawberry.input
class IncentiveInput:
    type: IncentiveType
    unit: IncentiveUnit
    value: Decimal
    description: str | None = None


@strawberry.input
class CreateDealInput:
    name: str
    advertiser_id: strawberry.ID
    agency_id: strawberry.ID | None = None
    deal_type: DealType
    channels: list[Channel]
    region: str | None = None
    currency: str = "USD"
    total_value: Decimal
    start_date: dt.date
    end_date: dt.date
    target_margin_pct: Decimal | None = None
    floor_cpm: Decimal | None = None
    non_standard_terms: str | None = None
    notes: str | None = None
    tiers: list[DealTierInput] | None = None
    incentives: list[IncentiveInput] | None = None


@strawberry.input
class UpdateDealInput:
    name: str | None = strawberry.UNSET
    agency_id: strawberry.ID | None = strawberry.UNSET
    deal_type: DealType | None = strawberry.UNSET
    channels: list[Channel] | None = strawberry.UNSET
    currency: str | None = strawberry.UNSET
    total_value: Decimal | None = strawberry.UNSET
    start_date: dt.date | None = strawberry.UNSET
    end_date: dt.date | None = strawberry.UNSET
    target_margin_pct: Decimal | None = strawberry.UNSET
    floor_cpm: Decimal | None = strawberry.UNSET
    non_standard_terms: str | None = strawberry.UNSET
    notes: str | None = strawberry.UNSET
