"""The `approvalMetrics` read: per-stage counts and decision-time percentiles in one statement."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    FromClause,
    Integer,
    Row,
    Select,
    Subquery,
    and_,
    case,
    cast,
    func,
    literal_column,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.sql.elements import True_

from auth.principal import Principal
from auth.rows import visible_deals
from gateway.core.tables import STAGES, deal_approvals, deals
from gateway.store.decided_hours import DECIDED, decided_hours

MEDIAN = (1, 2)  # percentiles as exact fractions (numerator, denominator)
P90 = (9, 10)
BUCKETS_PER_HOUR = 4  # decision times are first counted in quarter-hour buckets (see `_percentiles`)


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
    """The single SELECT behind `stage_metrics`: one row per stage that has any counted approval.

    Three parts, each over the approvals of the deals the caller may see, put together per stage:
    the percentiles of the decided ones, their count, and the pending ones. A part leaves the columns
    it is not about at 0 (counts) or NULL (hours).
    """
    parts = union_all(
        _percentiles(principal, since), _untimed_count(principal, since), _pending(principal, now)
    ).subquery("parts")
    c = parts.c
    return select(
        c.stage, func.sum(c.pending).label("pending"), func.sum(c.overdue).label("overdue"),
        func.sum(c.decided).label("decided"), func.max(c.median).label("median"),
        func.max(c.p90).label("p90"),
    ).group_by(c.stage)


ZERO = literal_column("0", Integer)


def _approvals(principal: Principal) -> tuple[FromClause, ColumnElement[bool]]:
    """Approvals joined to their deals, and the caller's row rule on those deals."""
    rule = visible_deals(principal)
    if isinstance(rule, True_):
        # Every deal is visible: the join would only find each approval's deal (a foreign key) again.
        return deal_approvals, rule
    return deal_approvals.join(deals, deals.c.id == deal_approvals.c.deal_id), rule


def _in_window(since: dt.datetime | None) -> list[ColumnElement[bool]]:
    return [] if since is None else [deal_approvals.c.decided_at >= since]


def _pending(principal: Principal, now: dt.datetime) -> Select[Any]:
    """Per stage: visible approvals pending now, and how many of them are overdue."""
    a, (source, rule) = deal_approvals.c, _approvals(principal)
    return (
        select(a.stage, func.count().label("pending"), func.count(case((a.due_at < now, 1))).label("overdue"),
               ZERO.label("decided"), null().label("median"), null().label("p90"))
        .select_from(source).where(a.status == "PENDING", rule).group_by(a.stage)
    )


def _untimed_count(principal: Principal, since: dt.datetime | None) -> Select[Any]:
    """Per stage: visible approvals decided in the window without hours to decision (none, normally).

    The decided ones with hours are counted by `_percentiles`; the two counts make `decidedCount`.
    A stage carried over (smart re-approval) was decided by no one this time: it has no activation, so
    no hours, and it is not counted here either.
    """
    a, (source, rule) = deal_approvals.c, _approvals(principal)
    return (
        select(a.stage, ZERO.label("pending"), ZERO.label("overdue"), func.count().label("decided"),
               null().label("median"), null().label("p90"))
        .select_from(source)
        .where(a.status.in_(DECIDED), decided_hours().is_(None), a.carried_over_from.is_(None),
               *_in_window(since), rule)
        .group_by(a.stage)
    )


def _timed(principal: Principal, since: dt.datetime | None, name: str) -> Subquery:
    """Visible approvals decided in the window that have hours to decision: (stage, hours)."""
    a, (source, rule) = deal_approvals.c, _approvals(principal)
    hours = decided_hours()
    return (select(a.stage, hours.label("hours")).select_from(source)
            .where(hours.is_not(None), *_in_window(since), rule).subquery(name))


def _percentiles(principal: Principal, since: dt.datetime | None) -> Select[Any]:
    """Per stage: the median and p90 of the hours to decision, exactly, ranking only the rows they need.

    Ranking every decided approval of seven years is what made this read slow. Instead the hours are
    first counted per quarter-hour bucket (one pass, no ranking); the running counts then tell which
    buckets hold the ranks a percentile blends, and only the rows of those buckets are ranked, each
    from its bucket's running count on. Buckets are ranges of hours, so a rank is the same as in one
    ranking of all rows; rows of equal hours share a bucket.
    """
    timed = _timed(principal, since, "timed")
    bucket = cast(timed.c.hours * BUCKETS_PER_HOUR, Integer)  # truncated or rounded: either keeps order
    counted = (select(timed.c.stage, func.count().label("bucket_size"), func.min(timed.c.hours).label("low"),
                      func.max(timed.c.hours).label("high"))
               .group_by(timed.c.stage, bucket).subquery("buckets"))
    b = counted.c
    through = func.sum(b.bucket_size).over(partition_by=b.stage, order_by=b.low, rows=(None, 0))
    running = select(
        b.stage, b.low, b.high, b.bucket_size, cast(through - b.bucket_size, BigInteger).label("ranks_below"),
        cast(func.sum(b.bucket_size).over(partition_by=b.stage), BigInteger).label("timed_count"),
    ).subquery("running")
    w = running.c
    needed = select(w.stage, w.low, w.high, w.ranks_below, w.timed_count).where(
        or_(_holds(w, *MEDIAN), _holds(w, *P90))).subquery("needed")
    n, again = needed.c, _timed(principal, since, "timed_again")
    rank = n.ranks_below + func.row_number().over(partition_by=(n.stage, n.low), order_by=again.c.hours)
    ranked = (select(n.stage, again.c.hours, rank.label("hours_rank"), n.timed_count)
              .select_from(needed.join(again, and_(again.c.stage == n.stage, again.c.hours >= n.low,
                                                   again.c.hours <= n.high)))
              .subquery("ranked"))
    r = ranked.c
    return (
        select(r.stage, ZERO.label("pending"), ZERO.label("overdue"),
               func.max(r.timed_count).label("decided"),  # the untimed ones are `_untimed_count`'s
               _percentile(r, *MEDIAN).label("median"), _percentile(r, *P90).label("p90"))
        .where(or_(_blended(r, *MEDIAN), _blended(r, *P90))).group_by(r.stage)
    )


# With p = num/den the position is 1 + p(n-1); `at` = den * p(n-1) keeps the rank tests in integers.
# Percentile num/den blends the ranks r with den*(r-2) <= at < den*r (the two around the position).

def _holds(w: Any, num: int, den: int) -> ColumnElement[bool]:
    """The bucket (ranks ranks_below+1 .. ranks_below+bucket_size) holds a rank percentile num/den blends."""
    at = num * (w.timed_count - 1)
    return and_(den * (w.ranks_below + w.bucket_size) > at, den * (w.ranks_below + 1 - 2) <= at)


def _blended(r: Any, num: int, den: int) -> ColumnElement[bool]:
    """The row is one of the ranks percentile num/den blends."""
    rank, at = r.hours_rank, num * (r.timed_count - 1)
    return and_(den * (rank - 2) <= at, at < den * rank)


def _percentile(r: Any, num: int, den: int) -> ColumnElement[Any]:
    """Continuous percentile num/den of `hours` (like percentile_cont): blend of two neighbouring ranks."""
    rank, at = r.hours_rank, num * (r.timed_count - 1)
    lower = and_(den * (rank - 1) <= at, at < den * rank)
    upper = and_(den * (rank - 2) <= at, at < den * (rank - 1))
    weight = case((lower, den * rank - at), (upper, at - den * (rank - 2)))
    return func.sum(r.hours * weight / den)


def _metrics(stage: str, row: Row[Any] | None) -> StageMetrics:
    if row is None:
        return StageMetrics(stage)
    # PostgreSQL sums counts as NUMERIC: int() makes them ints on every store.
    return StageMetrics(
        stage, int(row.pending), int(row.overdue), int(row.decided), _float(row.median), _float(row.p90)
    )


def _float(value: Any) -> float | None:
    # PostgreSQL's EXTRACT yields NUMERIC, so the percentiles arrive as Decimal there.
    return None if value is None else float(value)
