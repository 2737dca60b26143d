"""The `pipeline` read: deal count and total value per bucket, aggregated in one statement."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, func, literal_column, select

from auth.principal import Principal
from auth.rows import visible_deals
from gateway.core.tables import deals
from gateway.store.deal import DealCriteria, criteria_conditions
from gateway.store.sqlfunc import year_month

NO_AGENCY = "NONE"

# Keys carry no bound parameters, so GROUP BY and ORDER BY repeat the SELECT's expression verbatim.
KEYS: dict[str, ColumnElement[Any]] = {
    "STATUS": deals.c.status,
    "REGION": deals.c.region,
    "OWNER": deals.c.owner_id,
    "ADVERTISER": deals.c.advertiser_id,
    "AGENCY": func.coalesce(deals.c.agency_id, literal_column(f"'{NO_AGENCY}'")),
    "MONTH": year_month(deals.c.start_date),
    "DEAL_TYPE": deals.c.deal_type,
}


def buckets(
    connection: Connection, *, principal: Principal, group_by: str, criteria: DealCriteria
) -> list[tuple[str, int, Decimal]]:
    """(key, deal count, total value) per bucket of the visible deals matching `criteria`, by key."""
    rows = connection.execute(statement(principal, group_by, criteria))
    return [(row.bucket, row.deal_count, row.total_value) for row in rows]


def statement(principal: Principal, group_by: str, criteria: DealCriteria) -> Select[Any]:
    """The single SELECT behind `buckets`."""
    if group_by not in KEYS:
        raise ValueError(f"unknown pipeline grouping {group_by!r}")
    key = KEYS[group_by]
    columns = [
        key.label("bucket"),
        func.count().label("deal_count"),
        func.sum(deals.c.total_value).label("total_value"),
    ]
    stmt = select(*columns).where(visible_deals(principal), *criteria_conditions(criteria))
    return stmt.group_by(key).order_by(key)
