"""Data access for `deals`: reads always carry the caller's row rules and the to-one relations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, Select, Table, func, or_, select

from auth.principal import Principal
from auth.rows import visible_deals
from gateway.core.tables import advertisers, agencies, deals, users
from gateway.store import query
from gateway.store.pagination import DATE, DECIMAL, TEXT, TIMESTAMP, Codec, Page, SortKey, after_condition

CENT = Decimal("0.01")  # the scale of deals.total_value (Money)
RELATIONS: dict[str, Table] = {"owner": users, "advertiser": advertisers, "agency": agencies}


@dataclass(frozen=True)
class DealCriteria:
    """The DealFilter of the contract, validated."""

    statuses: tuple[str, ...] = ()
    owner_id: str | None = None
    advertiser_id: str | None = None
    agency_id: str | None = None
    region: str | None = None
    min_value: Decimal | None = None
    max_value: Decimal | None = None
    created_after: dt.datetime | None = None
    created_before: dt.datetime | None = None
    search: str | None = None


SORT_COLUMNS: dict[str, tuple[ColumnElement[Any], Codec]] = {
    "CREATED_AT": (deals.c.created_at, TIMESTAMP),
    "UPDATED_AT": (deals.c.updated_at, TIMESTAMP),
    "TOTAL_VALUE": (deals.c.total_value, DECIMAL),
    "START_DATE": (deals.c.start_date, DATE),
    "NAME": (deals.c.name, TEXT),
}
DEFAULT_ORDER = (("CREATED_AT", True),)


def sort_keys(order: Sequence[tuple[str, bool]]) -> list[SortKey]:
    """Keyset keys for (field, descending) pairs, the id last as the tie-breaker."""
    keys = [SortKey(SORT_COLUMNS[f][0], d, SORT_COLUMNS[f][1]) for f, d in order]
    return [*keys, SortKey(deals.c.id, descending=order[-1][1])]


def order_tag(order: Sequence[tuple[str, bool]]) -> str:
    """Names the ordering a cursor belongs to."""
    return "deals:" + ",".join(f"{field}:{'D' if desc else 'A'}" for field, desc in order)


def criteria_conditions(criteria: DealCriteria) -> list[ColumnElement[bool]]:
    """WHERE terms for a DealFilter."""
    c = deals.c
    terms: list[ColumnElement[bool] | None] = [
        c.status.in_(criteria.statuses) if criteria.statuses else None,
        _equal(c.owner_id, criteria.owner_id),
        _equal(c.advertiser_id, criteria.advertiser_id),
        _equal(c.agency_id, criteria.agency_id),
        _equal(c.region, criteria.region),
        _at_least(criteria.min_value),
        _at_most(criteria.max_value),
        c.created_at > criteria.created_after if criteria.created_after else None,
        c.created_at < criteria.created_before if criteria.created_before else None,
        _search(criteria.search) if criteria.search else None,
    ]
    return [term for term in terms if term is not None]


def _equal(column: ColumnElement[Any], value: object) -> ColumnElement[bool] | None:
    return column == value if value is not None else None


def _at_least(amount: Decimal | None) -> ColumnElement[bool] | None:
    # Stored values are whole cents: round the bound up, as binding it would round it to nearest.
    return None if amount is None else deals.c.total_value >= amount.quantize(CENT, ROUND_CEILING)


def _at_most(amount: Decimal | None) -> ColumnElement[bool] | None:
    return None if amount is None else deals.c.total_value <= amount.quantize(CENT, ROUND_FLOOR)


def _search(text: str) -> ColumnElement[bool]:
    pattern = query.contains_pattern(text.lower())
    return or_(
        func.lower(deals.c.name).like(pattern, escape=query.LIKE_ESCAPE),
        func.lower(deals.c.deal_number).like(pattern, escape=query.LIKE_ESCAPE),
    )


def with_relations() -> Select[Any]:
    """Deals joined with owner, advertiser and agency, their columns labelled `<relation>__<col>`."""
    labelled = [
        column.label(f"{name}__{column.name}")
        for name, table in RELATIONS.items() for column in table.c
    ]
    joined = (
        deals.join(users, users.c.id == deals.c.owner_id)
        .join(advertisers, advertisers.c.id == deals.c.advertiser_id)
        .outerjoin(agencies, agencies.c.id == deals.c.agency_id)
    )
    return select(deals, *labelled).select_from(joined)


def visible(principal: Principal, criteria: DealCriteria = DealCriteria()) -> Select[Any]:
    """The deals the caller may see that match `criteria`, with relations."""
    return with_relations().where(visible_deals(principal), *criteria_conditions(criteria))


def get_by_ids(
    connection: Connection, *, principal: Principal, ids: Sequence[str]
) -> list[Row[Any]]:
    """The visible deals among `ids`."""
    return query.rows(connection, _by_ids(principal), keys=ids)


@lru_cache(maxsize=query.CALLERS)
def _by_ids(principal: Principal) -> Select[Any]:
    return visible(principal).where(deals.c.id.in_(query.keys()))


def get_page(
    connection: Connection, *, principal: Principal, criteria: DealCriteria,
    keys: Sequence[SortKey], page: Page,
) -> list[Row[Any]]:
    """One page of visible deals matching `criteria` in `keys` order."""
    return query.rows(connection, query.paged(visible(principal, criteria), keys, page))


def count(connection: Connection, *, principal: Principal, criteria: DealCriteria) -> int:
    """How many visible deals match `criteria`."""
    stmt = select(deals.c.id).where(visible_deals(principal), *criteria_conditions(criteria))
    return query.count(connection, stmt)


def get_pages_by(
    connection: Connection, *, principal: Principal, column: str, parent_ids: Sequence[str],
    keys: Sequence[SortKey], page: Page,
) -> list[Row[Any]]:
    """One page of visible deals for each parent (advertiser or agency), in one statement."""
    parent = deals.c[column]
    rank = func.row_number().over(partition_by=parent, order_by=[k.order_by() for k in keys])
    inner = visible(principal).where(parent.in_(parent_ids))
    if page.after is not None:
        inner = inner.where(after_condition(keys, page.after))
    ranked = inner.add_columns(rank.label("page_rank")).subquery()
    stmt = select(ranked).where(ranked.c.page_rank <= page.first + 1).order_by(ranked.c.page_rank)
    return query.rows(connection, stmt)


def count_by(
    connection: Connection, *, principal: Principal, column: str, parent_ids: Sequence[str]
) -> dict[str, int]:
    """How many visible deals each parent has."""
    parent = deals.c[column]
    stmt = (
        select(parent, func.count())
        .where(parent.in_(parent_ids), visible_deals(principal))
        .group_by(parent)
    )
    return {key: total for key, total in connection.execute(stmt).all()}
