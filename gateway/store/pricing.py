"""Pricing guidance: segment figures computed in SQL from the closed deals, and their lookup.

PRODUCT.md, "Pricing guidance". A segment is (deal type, main channel, region, value band); level 0 is
that segment, each level above drops one of them (the band, then the channel, then the region). The
refresh rewrites `pricing_segments` from `deals` in one INSERT ... SELECT, the same SQL on every store:

- the quantiles are continuous (PostgreSQL's percentile_cont, "type 7"): over the n sorted values
  x_1..x_n, percentile p sits at position 1 + p(n - 1), blending the two ranks around it linearly.
  With p in quarters the blend weights are quarters too, so the sum is exact in integers (SQLite's
  scaled Rate values) or decimals, and so is its division by 4 (sqlfunc.quantile_of_quarters);
- the win rate is (won + PRIOR_DEALS * overall won / overall decided) / (decided + PRIOR_DEALS) in
  IEEE doubles, the operations in that order on every store (each correctly rounded: the same bits).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Double,
    Integer,
    Row,
    Select,
    String,
    Subquery,
    and_,
    case,
    cast,
    delete,
    func,
    literal,
    literal_column,
    or_,
    select,
    true,
    union_all,
    update,
)

from auth.principal import Principal
from auth.rows import visible_deals
from gateway.core.columns import UtcDateTime
from gateway.core.tables import deal_tiers, deals, pricing_segments
from gateway.store import changes
from gateway.store import deal as deal_store
from gateway.store.sqlfunc import first_item, quantile_of_quarters

WON = "CLOSED_WON"
DECIDED = ("CLOSED_WON", "CLOSED_LOST", "REJECTED")
PRIOR_DEALS = 20  # the win rate's prior: as if 20 more deals had been won at the overall rate
ANY = "*"
BANDS = ((Decimal("100000"), "UNDER_100K"), (Decimal("1000000"), "100K_1M"), (Decimal("5000000"), "1M_5M"))
TOP_BAND = "OVER_5M"
BAND_WORDS = {"UNDER_100K": "under 100K", "100K_1M": "100K-1M", "1M_5M": "1M-5M", "OVER_5M": "over 5M"}
KEYS = ("deal_type", "channel", "region", "value_band")
LEVELS: tuple[tuple[str, ...], ...] = (KEYS, KEYS[:3], ("deal_type", "region"), ("deal_type",))
"""The segment columns each level keeps."""
QUARTILES = (1, 2, 3)  # p25, p50, p75, in quarters
CLOCK_LEVEL, CLOCK_KEY = -1, "refresh"  # the refresh's own row: its refreshed_at is the shared clock
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)  # the clock of a store never refreshed
SEGMENT = "segment__"  # the label prefix of pricing_segments columns in a guidance row


@dataclass(frozen=True)
class Segment:
    """The four segment values of one deal (or of a deal not yet created)."""

    deal_type: str
    channel: str
    region: str
    value_band: str

    def key_at(self, level: int) -> str:
        """The `segment_key` of this segment widened to `level`."""
        kept = LEVELS[level]
        return "|".join(getattr(self, name) if name in kept else ANY for name in KEYS)


@dataclass(frozen=True)
class GuidanceRequest:
    """A lookup: the segment, the deal's value (similar deals are the closest), and the deal to leave out."""

    segment: Segment
    total_value: Decimal
    exclude_id: str | None = None


def band_of(total_value: Decimal) -> str:
    """The value band of a total value (in the deal's currency): under 100K, 100K-1M, 1M-5M, over 5M."""
    return next((name for bound, name in BANDS if total_value < bound), TOP_BAND)


def segment_of(*, deal_type: str, channels: Sequence[str], region: str, total_value: Decimal) -> Segment:
    """The segment of a deal: its type, its first (main) channel, its region and its value band."""
    return Segment(deal_type, channels[0], region, band_of(total_value))


def describe(row: Any) -> str:
    """A segment row in words: deal type / channel / region / value band, 'any' where widened."""
    channel = "any channel" if row.channel == ANY else row.channel
    region = "any region" if row.region == ANY else row.region
    band = "any value" if row.value_band == ANY else BAND_WORDS[row.value_band]
    return f"{row.deal_type} / {channel} / {region} / {band}"


def _band(value: ColumnElement[Any]) -> ColumnElement[str]:
    return case(*((value < bound, literal_column(f"'{name}'", String)) for bound, name in BANDS),
                else_=literal_column(f"'{TOP_BAND}'", String))


def _main_channel(channels: ColumnElement[str]) -> ColumnElement[str]:
    return first_item(channels)


# The refresh ------------------------------------------------------------------------------------------

def _closed() -> Subquery:
    """Decided deals (won, lost, rejected) with their segment values, first-tier CPM and target margin."""
    d, first = deals.c, deal_tiers.alias("first_tier")
    joined = deals.outerjoin(first, and_(first.c.deal_id == d.id, first.c.tier_number == 1))
    return (
        select(d.deal_type, _main_channel(d.channels).label("channel"), d.region,
               _band(d.total_value).label("value_band"), d.status, first.c.cpm.label("cpm"),
               d.target_margin_pct.label("margin"))
        .select_from(joined).where(d.status.in_(DECIDED)).subquery("closed")
    )


def _by_level(closed: Subquery) -> Subquery:
    """Every decided deal once per level, the segment columns the level drops set to '*'."""
    star = literal_column(f"'{ANY}'", String)
    parts = [
        select(literal_column(str(level), Integer).label("level"),
               *(closed.c[name] if name in kept else star.label(name) for name in KEYS),
               closed.c.status, closed.c.cpm, closed.c.margin)
        for level, kept in enumerate(LEVELS)
    ]
    return union_all(*parts).subquery("by_level")


def _segment_columns(source: Subquery) -> list[ColumnElement[Any]]:
    return [source.c.level, *(source.c[name] for name in KEYS)]


def _counts(by_level: Subquery) -> Subquery:
    won = func.count(case((by_level.c.status == WON, 1)))
    return (select(*_segment_columns(by_level), func.count().label("decided_count"), won.label("won_count"))
            .group_by(*_segment_columns(by_level)).subquery("counts"))


def _ranked(closed: Subquery) -> Subquery:
    """The CPMs of the CLOSED_WON deals with a first tier, and their target margins, ranked per segment of
    each level. Each of the eight parts (level, kind) ranks its own rows: Spark SQL cannot plan a window
    over a UNION inside a subquery."""
    c, star = closed.c, literal_column(f"'{ANY}'", String)
    won, sampled = c.status == WON, c.cpm.is_not(None)
    parts = []
    for level, kept in enumerate(LEVELS):
        for kind, value, where in (("cpm", c.cpm, (won, sampled)),
                                   ("margin", c.margin, (won, sampled, c.margin.is_not(None)))):
            partition = [c[name] for name in kept]
            parts.append(select(
                literal_column(str(level), Integer).label("level"),
                *(c[name] if name in kept else star.label(name) for name in KEYS),
                literal_column(f"'{kind}'", String).label("kind"), value.label("x"),
                func.row_number().over(partition_by=partition, order_by=value).label("value_rank"),
                func.count().over(partition_by=partition).label("n"),
            ).where(*where))
    return union_all(*parts).subquery("ranked")


def _quantiles(ranked: Subquery) -> Subquery:
    """Per segment: the CPM sample's size and p25, p50, p75, and the margins'."""
    r = ranked.c
    # Both kinds in one pass, each picked by a CASE: one join of this to the counts, not two.
    columns: list[ColumnElement[Any]] = []
    for kind, size in (("cpm", "sample_size"), ("margin", "margin_count")):
        of_kind = r.kind == kind
        columns.append(func.max(case((of_kind, r.n))).label(size))
        columns += [_quantile(ranked, quarter, of_kind).label(f"{kind}_p{25 * quarter}")
                    for quarter in QUARTILES]
    segment = _segment_columns(ranked)
    return select(*segment, *columns).group_by(*segment).subquery("quantiles")


def _quantile(ranked: Subquery, quarter: int, of_kind: ColumnElement[bool]) -> ColumnElement[Any]:
    """Percentile quarter/4 of x over the rows `of_kind`: ranks r with 4(r - 2) <= at < 4r blend, where
    at = quarter * (n - 1)."""
    rank, at = ranked.c.value_rank, quarter * (ranked.c.n - 1)
    lower = and_(of_kind, 4 * (rank - 1) <= at, at < 4 * rank)
    upper = and_(of_kind, 4 * (rank - 2) <= at, at < 4 * (rank - 1))
    weight = case((lower, 4 * rank - at), (upper, at - 4 * (rank - 2)))
    return quantile_of_quarters(func.sum(ranked.c.x * weight))


def _double(value: ColumnElement[Any]) -> ColumnElement[float]:
    return cast(value, Double())


def _overall(counted: ColumnElement[Any]) -> ColumnElement[float]:
    return select(_double(counted)).where(deals.c.status.in_(DECIDED)).scalar_subquery()


def refresh_statement(now: dt.datetime) -> Select[Any]:
    """The rows of `pricing_segments` (every level), computed from the closed deals."""
    closed = _closed()
    counts, quantiles = _counts(_by_level(closed)), _quantiles(_ranked(closed))
    c, q = counts.c, quantiles.c
    key = c.deal_type + "|" + c.channel + "|" + c.region + "|" + c.value_band
    prior = _double(literal_column(str(PRIOR_DEALS), Integer))
    overall_won = _overall(func.count(case((deals.c.status == WON, 1))))
    overall_decided = _overall(func.count())
    shrunk = _double(c.won_count) + prior * overall_won / overall_decided
    win_rate = shrunk / (_double(c.decided_count) + prior)
    same_segment = and_(*(q[name] == c[name] for name in ("level", *KEYS)))
    return (
        select(c.level, key.label("segment_key"), *(c[name] for name in KEYS), c.decided_count, c.won_count,
               func.coalesce(q.sample_size, 0).label("sample_size"),
               *(q[f"cpm_p{25 * n}"] for n in QUARTILES),
               func.coalesce(q.margin_count, 0).label("margin_count"),
               *(q[f"margin_p{25 * n}"] for n in QUARTILES),
               win_rate.label("win_rate"), literal(now, UtcDateTime()).label("refreshed_at"))
        .select_from(counts.outerjoin(quantiles, same_segment))
    )


REFRESHED = [column.name for column in pricing_segments.c]


def claim(connection: Connection, *, now: dt.datetime, stale_before: dt.datetime | None) -> bool:
    """Set the clock to `now` unless it shows a refresh at or after `stale_before` (None: anyway); whether
    this caller won it. A second worker's claim waits on the row (PostgreSQL) or the write lock (SQLite),
    then matches nothing."""
    p = pricing_segments.c
    clock = and_(p.level == CLOCK_LEVEL, p.segment_key == CLOCK_KEY)
    stmt = update(pricing_segments).where(clock).values(refreshed_at=now)
    if stale_before is not None:
        stmt = stmt.where(p.refreshed_at < stale_before)
    claimed = connection.execute(stmt).rowcount
    if claimed < 0:  # a driver that does not count (Databricks): read the clock back
        claimed = int(connection.execute(select(p.refreshed_at).where(clock)).scalar() == now)
    return claimed == 1


def compute(connection: Connection, *, now: dt.datetime) -> list[dict[str, Any]]:
    """Every segment's figures, computed in SQL from the closed deals (a read: it blocks no writer)."""
    return [dict(row._mapping) for row in connection.execute(refresh_statement(now))]


def replace(connection: Connection, *, rows: Sequence[dict[str, Any]]) -> int:
    """Replace the segment rows with `rows` (the clock row stays); how many were written."""
    connection.execute(delete(pricing_segments).where(pricing_segments.c.level >= 0))
    changes.insert_rows(connection, pricing_segments, rows)
    return len(rows)


def refresh(connection: Connection, *, now: dt.datetime, stale_before: dt.datetime | None) -> int | None:
    """Claim, compute and replace on one connection (one transaction where the store has them); the
    segments written, None when another refresh was more recent. The gateway runs the three steps apart
    (store/pricing_refresh.py), so that the long read holds no write lock."""
    if not claim(connection, now=now, stale_before=stale_before):
        return None
    return replace(connection, rows=compute(connection, now=now))


def clock_row(now: dt.datetime = EPOCH) -> dict[str, Any]:
    """The values of the refresh's own row (migration 10 writes it at the epoch: stale at once)."""
    return {"level": CLOCK_LEVEL, "segment_key": CLOCK_KEY, "deal_type": ANY, "channel": ANY, "region": ANY,
            "value_band": ANY, "decided_count": 0, "won_count": 0, "sample_size": 0, "margin_count": 0,
            "refreshed_at": now}


# The lookup -------------------------------------------------------------------------------------------

def _segment_labels() -> list[ColumnElement[Any]]:
    return [column.label(SEGMENT + column.name) for column in pricing_segments.c]


def _candidates(request: GuidanceRequest) -> ColumnElement[bool]:
    """The request's segment rows at every level, and the clock row."""
    p = pricing_segments.c
    keys = [request.segment.key_at(level) for level in range(len(LEVELS))]
    return or_(p.segment_key.in_(keys), and_(p.level == CLOCK_LEVEL, p.segment_key == CLOCK_KEY))


def get_segments(connection: Connection, *, requests: Sequence[GuidanceRequest]) -> list[Row[Any]]:
    """The segment rows (every level) of each request, and the clock row, in one statement."""
    stmt = select(*_segment_labels()).where(or_(*(_candidates(request) for request in requests)))
    return list(connection.execute(stmt).all())


def _match_level(segment: Segment) -> ColumnElement[int]:
    """The narrowest level at which a deal is in `segment` (its deal type is, by the WHERE)."""
    d = deals.c
    channel, region, band = _main_channel(d.channels) == segment.channel, d.region == segment.region, \
        _band(d.total_value) == segment.value_band
    return case((and_(channel, region, band), 0), (and_(channel, region), 1), (region, 2), else_=3)


def _with_similar(principal: Principal, request: GuidanceRequest, index: int, *, min_sample: int,
                  similar: int) -> Select[Any]:
    """One request's segment rows, the chosen level's joined with up to 2 x `similar` visible deals that
    hold its `similar` closest."""
    p, segment = pricing_segments.c, request.segment
    keys = [segment.key_at(level) for level in range(len(LEVELS))]
    chosen = select(func.min(p.level).label("chosen_level")).where(
        p.segment_key.in_(keys), p.level >= 0, p.sample_size >= min_sample)
    d = deals.c
    where = [visible_deals(principal), d.status == WON, d.deal_type == segment.deal_type,
             _match_level(segment) <= chosen.scalar_subquery(),
             *([d.id != request.exclude_id] if request.exclude_id is not None else [])]
    # The `similar` nearest at or above the value and the `similar` nearest below: each walks the
    # (total_value, id) index outward and stops once it has them, instead of sorting every won deal of
    # the type. The closest `similar` of all are among these (similar_of picks them).
    value, later = d.total_value, d.updated_at.desc()
    above = (select(d.id.label("similar_id")).where(*where, value >= request.total_value)
             .order_by(value, later, d.id).limit(similar).subquery(f"above_{index}"))
    below = (select(d.id.label("similar_id")).where(*where, value < request.total_value)
             .order_by(value.desc(), later, d.id).limit(similar).subquery(f"below_{index}"))
    nearest = union_all(select(above), select(below)).subquery(f"nearest_{index}")
    similar_deals = (deal_store.with_relations().join(nearest, nearest.c.similar_id == d.id)
                     .subquery(f"similar_{index}"))
    # The chosen level as a one-row table joined in, not a subquery in the ON (Spark SQL has none there).
    chosen_row = chosen.subquery(f"chosen_{index}")
    on = p.level == chosen_row.c.chosen_level
    joined = pricing_segments.join(chosen_row, true()).outerjoin(similar_deals, on)
    return (select(literal_column(str(index), Integer).label("request"), *_segment_labels(), similar_deals)
            .select_from(joined).where(_candidates(request)))


def get_segments_with_similar(
    connection: Connection, *, principal: Principal, requests: Sequence[GuidanceRequest], min_sample: int,
    similar: int,
) -> list[Row[Any]]:
    """Each request's segment rows and clock row (column `request`: its index), the chosen level's row
    once per candidate similar deal the caller may see (with its relations); in one statement."""
    parts = [_with_similar(principal, request, index, min_sample=min_sample, similar=similar)
             for index, request in enumerate(requests)]
    stmt = parts[0] if len(parts) == 1 else union_all(*parts)
    return list(connection.execute(stmt).all())


def similar_of(rows: Sequence[Any], request: GuidanceRequest, *, level: int, first: int) -> list[Any]:
    """The `first` similar deals among a lookup's rows (those joined to the chosen level's row): closest
    in value, then the most recently updated, then by id."""
    found = [row._mapping for row in rows
             if row._mapping["id"] is not None and row._mapping[SEGMENT + "level"] == level]
    found.sort(key=lambda deal: deal["id"])
    found.sort(key=lambda deal: deal["updated_at"], reverse=True)
    found.sort(key=lambda deal: abs(deal["total_value"] - request.total_value))
    return found[:first]


# Reading the rows -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Figures:
    """The guidance of one segment level, or the reason there is none."""

    level: int | None
    row: Any | None
    refreshed_at: dt.datetime | None
    reason: str | None = None


def figures_of(rows: Sequence[Any], request: GuidanceRequest, *, min_sample: int) -> Figures:
    """The narrowest level of the request's segment with at least `min_sample` deals, from its rows."""
    keys = {request.segment.key_at(level): level for level in range(len(LEVELS))}
    by_level: dict[int, Any] = {}
    refreshed_at = None
    for row in rows:
        segment = _segment(row)
        if segment.level == CLOCK_LEVEL:
            refreshed_at = segment.refreshed_at
        elif keys.get(segment.segment_key) == segment.level:
            by_level[segment.level] = segment
    if refreshed_at is None or refreshed_at <= EPOCH:
        return Figures(None, None, refreshed_at, "Pricing guidance has not been computed yet; try again "
                                                 "in a minute.")
    for level in range(len(LEVELS)):
        found = by_level.get(level)
        if found is not None and found.sample_size >= min_sample:
            return Figures(level, found, refreshed_at)
    return Figures(None, None, refreshed_at,
                   f"Fewer than {min_sample} closed-won deals of this deal type, even over every channel, "
                   "region and value: no figures.")


@dataclass(frozen=True)
class SegmentRow:
    """The pricing_segments columns of a guidance row, by name."""

    level: int
    segment_key: str
    deal_type: str
    channel: str
    region: str
    value_band: str
    sample_size: int
    cpm: tuple[Decimal, Decimal, Decimal] | None
    margin_count: int
    margin: tuple[Decimal, Decimal, Decimal] | None
    win_rate: float | None
    refreshed_at: dt.datetime


def _segment(row: Any) -> SegmentRow:
    m = row._mapping

    def quantiles(kind: str) -> tuple[Decimal, Decimal, Decimal] | None:
        values = [m[f"{SEGMENT}{kind}_p{25 * q}"] for q in QUARTILES]
        return None if any(value is None for value in values) else (values[0], values[1], values[2])

    plain = ("level", "segment_key", *KEYS, "sample_size", "margin_count", "win_rate", "refreshed_at")
    return SegmentRow(**{name: m[SEGMENT + name] for name in plain},
                      cpm=quantiles("cpm"), margin=quantiles("margin"))
