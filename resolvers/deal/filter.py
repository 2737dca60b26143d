"""DealFilter and DealOrder inputs, and their validation into store criteria."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import strawberry

from gateway.core.errors import BadUserInput
from gateway.core.ids import require_id
from gateway.store.deal import DEFAULT_ORDER, DealCriteria
from resolvers.common.enums import DealSortField, DealStatus, SortDirection
from resolvers.common.validation import no_nul

MAX_SEARCH = 200
MAX_AMOUNT_DIGITS = 16  # digits before the point of a stored amount (NUMERIC(18, 2))


@strawberry.input
class DealFilter:
    status: list[DealStatus] | None = None
    owner_id: strawberry.ID | None = None
    advertiser_id: strawberry.ID | None = None
    agency_id: strawberry.ID | None = None
    region: str | None = None
    min_value: Decimal | None = None
    max_value: Decimal | None = None
    created_after: dt.datetime | None = None
    created_before: dt.datetime | None = None
    search: str | None = strawberry.field(
        default=None, description="Case-insensitive match on deal name or deal number."
    )


@strawberry.input
class DealOrder:
    field: DealSortField
    direction: SortDirection = SortDirection.DESC


def criteria(value: DealFilter | None) -> DealCriteria:
    """Validated store criteria for a DealFilter."""
    if value is None:
        return DealCriteria()
    _check_range(value)
    return DealCriteria(
        statuses=tuple(status.value for status in value.status or ()),
        owner_id=_id(value.owner_id, "filter.ownerId"),
        advertiser_id=_id(value.advertiser_id, "filter.advertiserId"),
        agency_id=_id(value.agency_id, "filter.agencyId"),
        region=value.region, min_value=value.min_value, max_value=value.max_value,
        created_after=utc(value.created_after, "filter.createdAfter"),
        created_before=utc(value.created_before, "filter.createdBefore"),
        search=value.search or None,
    )


def ordering(value: list[DealOrder] | None) -> tuple[tuple[str, bool], ...]:
    """(field, descending) pairs; a field may appear once."""
    if not value:
        return DEFAULT_ORDER
    fields = [order.field.value for order in value]
    if len(set(fields)) != len(fields):
        raise BadUserInput("orderBy names a field twice", field="orderBy")
    return tuple((order.field.value, order.direction is SortDirection.DESC) for order in value)


def _check_range(value: DealFilter) -> None:
    for name, text in (("search", value.search), ("region", value.region)):
        if text is not None:
            no_nul(text, f"filter.{name}")
    if value.search is not None and len(value.search) > MAX_SEARCH:
        raise BadUserInput(f"search is longer than {MAX_SEARCH} characters", field="filter.search")
    low, high = value.min_value, value.max_value
    for name, amount in (("minValue", low), ("maxValue", high)):
        if amount is not None and not amount.is_finite():
            raise BadUserInput(f"{name} is not a number", field=f"filter.{name}")
        if amount is not None and amount.adjusted() >= MAX_AMOUNT_DIGITS:
            raise BadUserInput(f"{name} is out of range", field=f"filter.{name}")
    if low is not None and high is not None and low > high:
        raise BadUserInput("minValue is greater than maxValue", field="filter.minValue")


def utc(moment: dt.datetime | None, field: str) -> dt.datetime | None:
    """`moment` in UTC; BAD_USER_INPUT naming `field` when it has no offset or UTC cannot hold it."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise BadUserInput("date-times need a UTC offset", field=field)
    try:
        return moment.astimezone(dt.UTC)
    except OverflowError as error:
        raise BadUserInput("date-time out of range", field=field) from error


def _id(value: str | None, field: str) -> str | None:
    return None if value is None else require_id(value, field)
