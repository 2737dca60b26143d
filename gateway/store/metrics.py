"""The `approvalMetrics` read: per-stage counts and decision-time percentiles in one statement."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    Select,
    Subquery,
    and_,
    case,
    func,
    or_,
    select,
)

from auth.principal import Principal
from auth.rows import visible_deals
from gateway.store.sqlfunc import hours_between
from gateway.store.tables import STAGES, deal_approvals, deals

DECIDED = ("APPROVED", "REJECTED", "CHANGES_REQUESTED")
MEDIAN = (1, 2)  # percentiles as exact fractions (numerator, denominator)
P90 = (9, 10)


@dataclass(frozen=True)
class StageMetrics:
    """Throughput and bottlenecks of one approval stage."""

    stage: str
    pending_count: int = 0
    overdue_count: int = 0
    decided_count: int = 0
    median_hours: float | None = None
    p90_hours: float | None = None


def stage_metrics(
    connection: Connection, *, principal: Principal, since: dt.datetime | None, now: dt.datetime
) -> list[StageMetrics]:
    """Metrics of every stage, in contract order, over approvals of the deals the caller may see."""
    found = {row.stage: row for row in connection.execute(statement(principal, since, now))}
    return [_metrics(stage, found.get(stage)) for stage in STAGES]


def statement(principal: Principal, since: dt.datetime | None, now: dt.datetime) -> Select[Any]:
    """The single SELECT behind `stage_metrics`: one row per stage that has any counted approval."""
    r = _ranked(_base(principal, since)).c
    pending = r.status == "PENDING"
    return select(
        r.stage,
        func.count(case((pending, 1))).label("pending"),
        func.count(case((and_(pending, r.due_at < now), 1))).label("overdue"),
        func.count(r.decided).label("decided"),
        _percentile(r, *MEDIAN).label("median"),
        _percentile(r, *P90).label("p90"),
    ).group_by(r.stage)


def _decided(since: dt.datetime | None) -> ColumnElement[bool]:
    a = deal_approvals.c
    decided = a.status.in_(DECIDED)
    return decided if since is None else and_(decided, a.decided_at >= since)


def _base(principal: Principal, since: dt.datetime | None) -> Subquery:
    """Visible approvals pending now or decided in the window; `hours` only on decided ones."""
    a, decided = deal_approvals.c, _decided(since)
    stmt = select(
        a.stage, a.status, a.due_at,
        case((decided, 1)).label("decided"),
        case((decided, hours_between(a.activated_at, a.decided_at))).label("hours"),
    ).select_from(deal_approvals.join(deals, deals.c.id == a.deal_id))
    return stmt.where(visible_deals(principal), or_(a.status == "PENDING", decided)).subquery("base")


def _ranked(base: Subquery) -> Subquery:
    """`base` plus each row's 1-based rank by hours within its stage and the stage's count of hours."""
    # Rows without hours rank after the timed ones on every store (NULL ordering differs).
    untimed_last = case((base.c.hours.is_(None), 1), else_=0)
    order = [untimed_last, base.c.hours]
    rank = func.row_number().over(partition_by=base.c.stage, order_by=order)
    timed = func.count(base.c.hours).over(partition_by=base.c.stage)
    return select(base, rank.label("hours_rank"), timed.label("timed_count")).subquery("ranked")


def _percentile(r: Any, num: int, den: int) -> ColumnElement[Any]:
    """Continuous percentile num/den of `hours` (like percentile_cont): blend of two neighbouring ranks."""
    # With p = num/den the position is 1 + p(n-1); `at` = den * p(n-1) keeps the rank tests in integers.
    rank, at = r.hours_rank, num * (r.timed_count - 1)
    lower = and_(den * (rank - 1) <= at, at < den * rank)
    upper = and_(den * (rank - 2) <= at, at < den * (rank - 1))
    weight = case((lower, den * rank - at), (upper, at - den * (rank - 2)))
    return func.sum(r.hours * weight / den)


def _metrics(stage: str, row: Row[Any] | None) -> StageMetrics:
    if row is None:
        return StageMetrics(stage)
    return StageMetrics(
        stage, row.pending, row.overdue, row.decided, _float(row.median), _float(row.p90)
    )


def _float(value: Any) -> float | None:
    # PostgreSQL's EXTRACT yields NUMERIC, so the percentiles arrive as Decimal there.
    return None if value is None else float(value)
