"""Pricing guidance (PRODUCT.md): a segment's quartiles and shrunk win rate, and the most similar deals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types import Info

from auth.fields import CanSeeMargins
from gateway.core.errors import BadUserInput, Forbidden, InsufficientData
from gateway.store import pricing, pricing_refresh
from gateway.store.rows import RowLike
from resolvers.common.context import Context
from resolvers.common.enums import Channel, DealType
from resolvers.common.objects import lazy_class
from resolvers.common.selection import arguments_of
from resolvers.common.validation import currency, money
from resolvers.deal import validation

if TYPE_CHECKING:
    Deal = Any

DealRef = Annotated["Deal", strawberry.lazy("resolvers.deal.types")]
deal_type = lazy_class("resolvers.deal.types", "Deal")
SIMILAR_DEFAULT, SIMILAR_MAX = 5, 50


@strawberry.type(description="p25, median and p75 of a decimal figure over a segment's closed deals.")
class DecimalQuantiles:
    p25: Decimal
    p50: Decimal
    p75: Decimal

    @classmethod
    def of(cls, values: tuple[Decimal, Decimal, Decimal] | None) -> DecimalQuantiles | None:
        """The quartiles of a segment row, None where it has none."""
        return None if values is None else cls(p25=values[0], p50=values[1], p75=values[2])


@strawberry.type
class PricingGuidance:
    segment: str = strawberry.field(description="The segment the figures come from, in words "
                                                "(deal type / channel / region / value band).")
    level: int = strawberry.field(
        description="0 = the deal's own segment; each fallback to a wider segment adds 1.")
    sample_size: int = strawberry.field(description="Closed deals behind the figures.")
    cpm: DecimalQuantiles
    margin_pct: DecimalQuantiles | None = strawberry.field(
        permission_classes=[CanSeeMargins], description="Restricted like Deal.targetMarginPct.")
    win_rate: float = strawberry.field(
        description="Won / (won + lost + rejected), shrunk toward the overall rate.")
    similar: strawberry.Private[list[RowLike]]

    @strawberry.field(description="Closed deals of the segment the caller may see, most similar first.")
    def similar_deals(self, info: Info[Context, None], first: int | None = SIMILAR_DEFAULT) -> list[DealRef]:
        count = similar_count(first)
        deal = deal_type()
        return [info.context.objects.of(deal, row) for row in self.similar[:count]]


@strawberry.input
class PricingGuidanceInput:
    deal_type: DealType
    channels: list[Channel]
    region: str | None = None
    currency: str = "USD"
    total_value: Decimal


def similar_count(first: int | str | None) -> int:
    """How many similar deals `first` asks for: 0 to SIMILAR_MAX, the default when null (a literal in the
    document, read ahead of its field, arrives as its text)."""
    try:
        count = SIMILAR_DEFAULT if first is None else int(first)
    except ValueError:
        raise BadUserInput("first must be an integer", field="first") from None
    if not 0 <= count <= SIMILAR_MAX:
        raise BadUserInput(f"first must be between 0 and {SIMILAR_MAX}", field="first")
    return count


def request_of(value: PricingGuidanceInput, *, default_region: str | None) -> pricing.GuidanceRequest:
    """The lookup of a valid PricingGuidanceInput (region: given, else the caller's, as createDeal's)."""
    validation.channels(value.channels, "input.channels")
    currency(value.currency, "input.currency")
    total = money(value.total_value, "input.totalValue")
    region = validation.region(value.region, default_region)
    segment = pricing.segment_of(deal_type=value.deal_type.value, channels=[c.value for c in value.channels],
                                 region=region, total_value=total)
    return pricing.GuidanceRequest(segment, total)


async def guidance(info: Info[Context, None], request: pricing.GuidanceRequest) -> PricingGuidance | None:
    """The guidance of `request`; an INSUFFICIENT_DATA error (the field null) below the minimum sample."""
    context = info.context
    if not context.principal.roles:
        raise Forbidden("Your account has no role: no pricing guidance.")
    wanted = [similar_count(arguments.get("first", SIMILAR_DEFAULT))
              for arguments in arguments_of(info, "similarDeals")]
    similar = max(wanted, default=0)
    rows = await context.loaders.pricing_guidance_by_request(similar).load(request)
    settings = context.settings
    figures = pricing.figures_of(rows, request, min_sample=settings.guidance_min_sample)
    if pricing_refresh.is_stale(figures.refreshed_at, now=dt.datetime.now(dt.UTC),
                                refresh_s=settings.guidance_refresh_s):
        pricing_refresh.start(context.db, refresh_s=settings.guidance_refresh_s)
    if figures.row is None or figures.level is None or figures.row.cpm is None:
        raise InsufficientData(figures.reason or "No pricing guidance for this segment.")
    row = figures.row
    margin = row.margin if row.margin_count >= settings.guidance_min_sample else None
    return PricingGuidance(
        segment=pricing.describe(row), level=figures.level, sample_size=row.sample_size,
        cpm=DecimalQuantiles(p25=row.cpm[0], p50=row.cpm[1], p75=row.cpm[2]),
        margin_pct=DecimalQuantiles.of(margin), win_rate=float(row.win_rate or 0.0),
        similar=pricing.similar_of(rows, request, level=figures.level, first=similar) if similar else [],
    )
