"""Input checks of the deal mutations; a failure is BAD_USER_INPUT naming the field (`tiers[1].minSpend`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, TypeVar

import strawberry

from gateway.core.errors import BadUserInput
from gateway.core.ids import require_id
from resolvers.common.enums import Channel, IncentiveUnit
from resolvers.common.validation import NOTE_LENGTH, currency, date_range, money, percent, rate, text
from resolvers.deal.inputs import CreateDealInput, DealTierInput, IncentiveInput, UpdateDealInput

T = TypeVar("T")
MAX_ITEMS = 50  # tiers or incentives on one deal
REGION_LENGTH = 32
DESCRIPTION_LENGTH = 500


def optional(check: Callable[[T, str], T], value: T | None, field: str) -> T | None:
    """`check(value, field)` unless the value is absent."""
    return None if value is None else check(value, field)


def channels(values: Sequence[Channel], field: str) -> str:
    """At least one channel, none twice, stored comma-separated in the given order."""
    if not values:
        raise BadUserInput(f"{field} needs at least one channel", field=field)
    if len(set(values)) != len(values):
        raise BadUserInput(f"{field} lists a channel more than once", field=field)
    return ",".join(channel.value for channel in values)


def required_text(value: str, field: str, *, max_length: int = NOTE_LENGTH) -> str:
    """Trimmed, non-blank text within `max_length`."""
    checked = text(value, field, max_length=max_length, required=True)
    if checked is None:  # text() never returns None for required text; this narrows the type
        raise BadUserInput(f"{field} is required", field=field)
    return checked


def region(value: str | None, default: str | None) -> str:
    """The deal's region: the one given, else the caller's."""
    chosen = text(value, "input.region", max_length=REGION_LENGTH) or default
    if chosen is None:
        raise BadUserInput("input.region is required: your account has no region", field="input.region")
    return chosen


def deal_fields(value: CreateDealInput, *, default_region: str | None) -> dict[str, Any]:
    """The `deals` columns of a valid createDeal input."""
    date_range(value.start_date, value.end_date, "input.endDate")
    return {
        "name": text(value.name, "input.name", required=True),
        "advertiser_id": require_id(value.advertiser_id, "input.advertiserId"),
        "agency_id": optional(require_id, value.agency_id, "input.agencyId"),
        "deal_type": value.deal_type.value, "channels": channels(value.channels, "input.channels"),
        "region": region(value.region, default_region),
        "currency": currency(value.currency, "input.currency"),
        "total_value": money(value.total_value, "input.totalValue"),
        "start_date": value.start_date, "end_date": value.end_date,
        "target_margin_pct": optional(percent, value.target_margin_pct, "input.targetMarginPct"),
        "floor_cpm": optional(rate, value.floor_cpm, "input.floorCpm"),
        "non_standard_terms": text(value.non_standard_terms, "input.nonStandardTerms",
                                   max_length=NOTE_LENGTH),
        "notes": text(value.notes, "input.notes", max_length=NOTE_LENGTH),
    }


def tiers(values: Sequence[DealTierInput], field: str) -> list[dict[str, Any]]:
    """Valid tiers: each minSpend at or above the previous maxSpend, only the last open-ended."""
    _bounded(values, field)
    checked = [tier(value, f"{field}[{index}]") for index, value in enumerate(values)]
    for index in range(1, len(checked)):
        _follows(checked[index - 1], checked[index], f"{field}[{index - 1}]", f"{field}[{index}]")
    return checked


def tier(value: DealTierInput, field: str) -> dict[str, Any]:
    """The `deal_tiers` columns of one valid tier."""
    min_spend = money(value.min_spend, f"{field}.minSpend", allow_zero=True)
    max_spend = optional(money, value.max_spend, f"{field}.maxSpend")
    if max_spend is not None and max_spend <= min_spend:
        raise BadUserInput(f"{field}.maxSpend must be above minSpend", field=f"{field}.maxSpend")
    return {"min_spend": min_spend, "max_spend": max_spend, "cpm": rate(value.cpm, f"{field}.cpm"),
            "margin_pct": optional(percent, value.margin_pct, f"{field}.marginPct")}


def _follows(previous: dict[str, Any], current: dict[str, Any], previous_field: str, field: str) -> None:
    if previous["max_spend"] is None:
        raise BadUserInput(f"{previous_field}.maxSpend: only the last tier may have no maxSpend",
                           field=f"{previous_field}.maxSpend")
    if current["min_spend"] < previous["max_spend"]:
        raise BadUserInput(f"{field}.minSpend overlaps the previous tier (below its maxSpend)",
                           field=f"{field}.minSpend")


def incentives(values: Sequence[IncentiveInput], field: str) -> list[dict[str, Any]]:
    """Valid incentives, in the given order."""
    _bounded(values, field)
    return [incentive(value, f"{field}[{index}]") for index, value in enumerate(values)]


def incentive(value: IncentiveInput, field: str) -> dict[str, Any]:
    """The `incentive_values` columns of one valid incentive: positive, a PERCENT at most 100."""
    amount: Decimal = rate(value.value, f"{field}.value")
    if value.unit is IncentiveUnit.PERCENT:
        percent(amount, f"{field}.value")
    return {"type": value.type.value, "unit": value.unit.value, "value": amount,
            "description": text(value.description, f"{field}.description", max_length=DESCRIPTION_LENGTH)}


def _bounded(values: Sequence[object], field: str) -> None:
    if len(values) > MAX_ITEMS:
        raise BadUserInput(f"{field} may hold at most {MAX_ITEMS} entries", field=field)


# updateDeal: the check of each field, and which of them may not be set to null.
UPDATE_CHECKS: dict[str, Callable[[Any, str], Any]] = {
    "name": lambda value, field: text(value, field, required=True),
    "agency_id": require_id,
    "deal_type": lambda value, _field: value.value,
    "channels": channels,
    "currency": currency,
    "total_value": money,
    "start_date": lambda value, _field: value,
    "end_date": lambda value, _field: value,
    "target_margin_pct": percent,
    "floor_cpm": rate,
    "non_standard_terms": lambda value, field: text(value, field, max_length=NOTE_LENGTH),
    "notes": lambda value, field: text(value, field, max_length=NOTE_LENGTH),
}
NOT_NULL = frozenset({"name", "deal_type", "channels", "currency", "total_value", "start_date", "end_date"})


def update_fields(value: UpdateDealInput) -> dict[str, Any]:
    """The columns an updateDeal input changes (fields left out keep their value), each valid."""
    given = {name: getattr(value, name) for name in UPDATE_CHECKS
             if getattr(value, name) is not strawberry.UNSET}
    if not given:
        raise BadUserInput("input changes no field", field="input")
    changes = {name: _update_value(name, field_value) for name, field_value in given.items()}
    date_range(changes.get("start_date"), changes.get("end_date"), "input.endDate")
    return changes


def _update_value(name: str, value: Any) -> Any:
    field = "input." + _camel(name)
    if value is None:
        if name in NOT_NULL:
            raise BadUserInput(f"{field} may not be null", field=field)
        return None
    return UPDATE_CHECKS[name](value, field)


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.capitalize() for part in rest)
