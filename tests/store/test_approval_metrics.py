"""`metrics.stage_metrics` against conftest's deals plus the hand-timed approvals below."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import astuple

import pytest
from sqlalchemy import text, update

from auth.principal import Principal
from gateway.core.roles import Role
from gateway.core.tables import deal_approvals
from gateway.store import approval_metrics as metrics
from gateway.store.database import Database
from gateway.store.decided_hours import DECIDED
from gateway.store.migrate import migrate
from tests.store.conftest import Seed, World, principal, recorded

NOW = dt.datetime(2024, 6, 1, 12, 0, tzinfo=dt.UTC)
SINCE = dt.datetime(2024, 5, 15, 0, 0, tzinfo=dt.UTC)
ANALYST = principal("analyst", Role.ANALYST)
CONTRACT_ORDER = ("SALES_MANAGER", "DEAL_DESK", "FINANCE", "LEGAL", "EXECUTIVE")
EMPTY = [(stage, 0, 0, 0, None, None) for stage in CONTRACT_ORDER]
Stats = tuple[str, int, int, int, float | None, float | None]


def may(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2024, 5, day, hour, minute, tzinfo=dt.UTC)


def june(day: int, hour: int) -> dt.datetime:
    return dt.datetime(2024, 6, day, hour, tzinfo=dt.UTC)


@pytest.fixture
def approvals(seed: Seed, world: World) -> None:
    """Approvals of d1..d6; hours to decision noted on each decided one."""
    d, a = world.deals, seed.approval
    a(d["d1"], "SALES_MANAGER", "APPROVED", activated=may(1, 0), decided=may(1, 2))  # 2 h
    a(d["d2"], "SALES_MANAGER", "APPROVED", activated=may(10, 0), decided=may(10, 4))  # 4 h
    a(d["d5"], "SALES_MANAGER", "REJECTED", activated=may(20, 0), decided=may(20, 10))  # 10 h
    a(d["d6"], "SALES_MANAGER", "CHANGES_REQUESTED", activated=may(25, 0), decided=may(25, 20))  # 20 h
    a(d["d4"], "SALES_MANAGER", "PENDING", activated=may(30, 0), due=june(1, 0))  # overdue
    a(d["d1"], "DEAL_DESK", "PENDING", activated=may(1, 2), due=may(3, 2))  # overdue
    a(d["d2"], "DEAL_DESK", "APPROVED", activated=may(10, 4), decided=may(11, 4))  # 24 h
    a(d["d5"], "DEAL_DESK", "APPROVED", activated=may(14, 12), decided=SINCE)  # 12 h, exactly at SINCE
    a(d["d4"], "DEAL_DESK", "WAITING")
    a(d["d2"], "FINANCE", "APPROVED", activated=may(11, 4), decided=may(11, 5, 30))  # 1.5 h
    a(d["d5"], "FINANCE", "REJECTED", activated=may(20, 10), decided=may(20, 13))  # 3 h
    a(d["d5"], "FINANCE", "CANCELLED", round=2, activated=may(21, 0), decided=may(22, 0))  # not a decision
    a(d["d6"], "FINANCE", "CHANGES_REQUESTED", round=2, activated=may(26, 0), decided=may(26, 6))  # 6 h
    a(d["d6"], "FINANCE", "PENDING", round=3, activated=may(31, 0), due=june(2, 0))  # not yet due
    a(d["d4"], "EXECUTIVE", "PENDING", activated=may(31, 12), due=NOW)  # due right now: not overdue


def stats(db: Database, who: Principal, since: dt.datetime | None = None) -> list[Stats]:
    with db.engine.connect() as connection:
        found = metrics.stage_metrics(connection, principal=who, since=since, now=NOW)
    return [astuple(stage) for stage in found]


def approx(rows: list[Stats]) -> list[object]:
    return [pytest.approx(row, abs=1e-6) for row in rows]


@pytest.mark.usefixtures("approvals")
def test_every_visible_approval(db: Database) -> None:
    assert stats(db, ANALYST) == approx([
        # [2, 4, 10, 20]: median 4 + 0.5*(10-4) = 7.0; p90 at 1+0.9*3 = 3.7: 10 + 0.7*(20-10) = 17.0
        ("SALES_MANAGER", 1, 1, 4, 7.0, 17.0),
        # [12, 24]: median 18.0; p90 at 1.9: 12 + 0.9*(24-12) = 22.8
        ("DEAL_DESK", 1, 1, 2, 18.0, 22.8),
        # [1.5, 3, 6]: median 3.0; p90 at 1+0.9*2 = 2.8: 3 + 0.8*(6-3) = 5.4
        ("FINANCE", 1, 0, 3, 3.0, 5.4),
        ("LEGAL", 0, 0, 0, None, None),
        ("EXECUTIVE", 1, 0, 0, None, None),
    ])


@pytest.mark.usefixtures("approvals")
def test_since_limits_only_the_decided(db: Database) -> None:
    assert stats(db, ANALYST, since=SINCE) == approx([
        # [10, 20]: median 15.0; p90 at 1.9: 10 + 0.9*10 = 19.0
        ("SALES_MANAGER", 1, 1, 2, 15.0, 19.0),
        # [12] (decided at SINCE itself, inclusive); d2's 24 h was decided May 11
        ("DEAL_DESK", 1, 1, 1, 12.0, 12.0),
        # [3, 6]: median 4.5; p90 = 3 + 0.9*3 = 5.7
        ("FINANCE", 1, 0, 2, 4.5, 5.7),
        ("LEGAL", 0, 0, 0, None, None),
        ("EXECUTIVE", 1, 0, 0, None, None),
    ])


@pytest.mark.usefixtures("approvals")
def test_one_statement(db: Database) -> None:
    with recorded(db) as sent:
        stats(db, ANALYST, since=SINCE)
    assert len(sent) == 1


@pytest.mark.usefixtures("approvals")
def test_seller_sees_own_deals_only(db: Database, world: World) -> None:
    assert stats(db, principal(world.alice, Role.SELLER, region="EMEA")) == approx([
        ("SALES_MANAGER", 0, 0, 2, 3.0, 3.8),  # d1 d2: [2, 4]: p90 = 2 + 0.9*2 = 3.8
        ("DEAL_DESK", 1, 1, 1, 24.0, 24.0),  # d1 pending, d2 24 h
        ("FINANCE", 0, 0, 1, 1.5, 1.5),  # d2
        ("LEGAL", 0, 0, 0, None, None),
        ("EXECUTIVE", 0, 0, 0, None, None),
    ])
    assert stats(db, principal(world.bob, Role.SELLER, region="NA")) == approx([
        ("SALES_MANAGER", 1, 1, 2, 15.0, 19.0),  # d4 pending; d5 d6: [10, 20]
        ("DEAL_DESK", 0, 0, 1, 12.0, 12.0),  # d5
        ("FINANCE", 1, 0, 2, 4.5, 5.7),  # d6 pending; d5 d6: [3, 6]
        ("LEGAL", 0, 0, 0, None, None),
        ("EXECUTIVE", 1, 0, 0, None, None),  # d4
    ])


@pytest.mark.usefixtures("approvals")
def test_sales_manager_sees_own_region_only(db: Database, world: World) -> None:
    assert stats(db, principal(world.carol, Role.SALES_MANAGER, region="NA")) == approx([
        ("SALES_MANAGER", 1, 1, 1, 10.0, 10.0),  # d4 pending; d5 10 h
        ("DEAL_DESK", 0, 0, 1, 12.0, 12.0),  # d5
        ("FINANCE", 0, 0, 1, 3.0, 3.0),  # d5
        ("LEGAL", 0, 0, 0, None, None),
        ("EXECUTIVE", 1, 0, 0, None, None),  # d4
    ])
    assert stats(db, principal(world.dave, Role.SALES_MANAGER, region="EMEA")) == approx([
        # d1 d2 d6: [2, 4, 20]: median 4.0; p90 at 2.8: 4 + 0.8*(20-4) = 16.8
        ("SALES_MANAGER", 0, 0, 3, 4.0, 16.8),
        ("DEAL_DESK", 1, 1, 1, 24.0, 24.0),  # d1 pending; d2 24 h
        # d6 pending; d2 d6: [1.5, 6]: median 3.75; p90 = 1.5 + 0.9*4.5 = 5.55
        ("FINANCE", 1, 0, 2, 3.75, 5.55),
        ("LEGAL", 0, 0, 0, None, None),
        ("EXECUTIVE", 0, 0, 0, None, None),
    ])


@pytest.mark.usefixtures("approvals")
def test_no_roles_gets_all_zero(db: Database, world: World) -> None:
    assert stats(db, principal(world.alice, region="EMEA")) == EMPTY


def test_empty_store(db: Database) -> None:
    assert stats(db, ANALYST) == EMPTY
    assert stats(db, ANALYST, since=SINCE) == EMPTY


PERCENTILE_CONT = text(
    "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY h), percentile_cont(0.9) WITHIN GROUP (ORDER BY h)"
    " FROM (SELECT EXTRACT(EPOCH FROM (decided_at - activated_at)) / 3600.0 AS h FROM deal_approvals) t"
)


def test_percentiles_match_postgresql_percentile_cont(db: Database, seed: Seed, world: World) -> None:
    if db.dialect != "postgresql":
        pytest.skip("percentile_cont is PostgreSQL's")
    for number, minutes in enumerate([7, 600, 95, 3000, 61, 61, 1440, 5, 333, 12000, 250], start=1):
        start = may(1, 0) + dt.timedelta(hours=number)
        seed.approval(world.deals["d1"], "LEGAL", "APPROVED", round=number, activated=start,
                      decided=start + dt.timedelta(minutes=minutes))
    with db.engine.connect() as connection:
        median, p90 = connection.execute(PERCENTILE_CONT).one()
    legal = stats(db, ANALYST)[3]
    assert legal == pytest.approx(("LEGAL", 0, 0, 11, float(median), float(p90)), abs=1e-9)


# Many decision times per stage, so the percentiles come from several quarter-hour buckets: ties,
# times on and next to bucket edges, a long tail, decided approvals without an activation time.
EDGES = [0.25, 0.25, 0.2499, 0.2501, 0.5, 1.0, 1.0, 1.0, 7.75, 7.7501, 96.0, 480.25]
Made = tuple[str, str, str, dt.datetime | None, dt.datetime]  # deal, stage, status, activated, decided


def spread(rng: random.Random, count: int) -> list[float]:
    """`count` decision times in hours, whole seconds, mostly short with a long tail."""
    kinds = (lambda: rng.uniform(0, 2), lambda: rng.uniform(0, 30), lambda: rng.expovariate(1 / 40))
    draws = (rng.choice(kinds)() for _ in range(count))
    return [round(hours * 3600) / 3600 for hours in draws]


def percentile(hours: list[float], p: float) -> float | None:
    """percentile_cont(p) of `hours`."""
    if not hours:
        return None
    ordered = sorted(hours)
    position = p * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@pytest.fixture
def many(seed: Seed, world: World) -> list[Made]:
    """Decided approvals of every deal: (deal, stage, status, activated, decided), plus some not decided."""
    rng = random.Random(6)
    made: list[Made] = []
    start = dt.datetime(2024, 3, 1, tzinfo=dt.UTC)
    for index, stage in enumerate(["SALES_MANAGER", "DEAL_DESK", "FINANCE", "EXECUTIVE"]):
        hours = [*EDGES, *spread(rng, 40 + 30 * index)]
        for number, spent in enumerate(hours):
            deal = rng.choice(list(world.deals.values()))
            activated = start + dt.timedelta(hours=number * 7 + index)
            decided = activated + dt.timedelta(seconds=round(spent * 3600))
            status = rng.choice(DECIDED)
            seed.approval(deal, stage, status, round=number + 1, activated=activated, decided=decided)
            made.append((deal, stage, status, activated, decided))
    for number, stage in enumerate(["SALES_MANAGER", "FINANCE"], start=1000):  # decided, never activated
        decided = start + dt.timedelta(days=number - 990)
        seed.approval(world.deals["d2"], stage, "REJECTED", round=number, decided=decided)
        made.append((world.deals["d2"], stage, "REJECTED", None, decided))
    seed.approval(world.deals["d3"], "LEGAL", "CANCELLED", round=7, activated=start, decided=start)
    seed.approval(world.deals["d3"], "LEGAL", "WAITING", round=8)
    return made


def expected(made: list[Made], deals: set[str], since: dt.datetime | None) -> list[Stats]:
    """What `stage_metrics` must answer, computed here (no pending approvals in `many`)."""
    rows: list[Stats] = []
    for stage in CONTRACT_ORDER:
        mine = [(activated, decided) for deal, at, _, activated, decided in made
                if at == stage and deal in deals and (since is None or decided >= since)]
        hours = [(decided - activated).total_seconds() / 3600 for activated, decided in mine if activated]
        rows.append((stage, 0, 0, len(mine), percentile(hours, 0.5), percentile(hours, 0.9)))
    return rows


@pytest.mark.parametrize("since", [None, dt.datetime(2024, 3, 10, tzinfo=dt.UTC)])
def test_percentiles_over_many_decisions(
    db: Database, world: World, many: list[Made], since: dt.datetime | None
) -> None:
    d = world.deals
    callers = [
        (ANALYST, set(d.values())),
        (principal(world.alice, Role.SELLER, region="EMEA"), {d["d1"], d["d2"], d["d3"]}),
        (principal(world.dave, Role.SALES_MANAGER, region="EMEA"), {d["d1"], d["d2"], d["d3"], d["d6"]}),
    ]
    for who, deals in callers:
        want = expected(many, deals, since)
        assert stats(db, who, since=since) == [pytest.approx(row, abs=1e-6) for row in want]


def test_sqlite_keeps_decided_hours_on_every_write(db: Database, seed: Seed, world: World) -> None:
    if db.dialect != "sqlite":
        pytest.skip("the stored decided_hours is SQLite's")
    approvals = deal_approvals.c
    d = world.deals
    decided = seed.approval(d["d1"], "SALES_MANAGER", "APPROVED", activated=may(1, 0), decided=may(1, 2))
    later = seed.approval(d["d1"], "DEAL_DESK", "WAITING")
    with db.engine.begin() as connection:
        connection.execute(update(deal_approvals).where(approvals.id == later)
                           .values(status="PENDING", activated_at=may(1, 2), due_at=may(3, 2)))
    assert stored_hours(db) == pytest.approx({decided: 2.0, later: None}, abs=1e-6)
    with db.engine.begin() as connection:
        connection.execute(update(deal_approvals).where(approvals.id == later)
                           .values(status="CHANGES_REQUESTED", decided_at=may(1, 5, 30)))
        connection.execute(update(deal_approvals).where(approvals.id == decided).values(status="CANCELLED"))
    assert stored_hours(db) == pytest.approx({decided: None, later: 3.5}, abs=1e-6)
    assert stats(db, ANALYST)[1] == pytest.approx(("DEAL_DESK", 0, 0, 1, 3.5, 3.5), abs=1e-6)


def test_sqlite_migration_fills_decided_hours_of_older_stores(db: Database, seed: Seed, world: World) -> None:
    if db.dialect != "sqlite":
        pytest.skip("the stored decided_hours is SQLite's")
    with db.engine.begin() as connection:  # back to a store of before migration 5, rows written meanwhile
        for statement in ("DROP TRIGGER deal_approvals_decided_hours_insert",
                          "DROP TRIGGER deal_approvals_decided_hours_update",
                          "DROP INDEX ix_deal_approvals_decided_hours",
                          "DROP INDEX ix_deal_approvals_status_decided_hours",
                          "ALTER TABLE deal_approvals DROP COLUMN decided_hours",
                          "DELETE FROM schema_version WHERE version >= 5"):
            connection.exec_driver_sql(statement)
    d = world.deals
    first = seed.approval(d["d1"], "SALES_MANAGER", "APPROVED", activated=may(1, 0), decided=may(1, 2))
    second = seed.approval(d["d2"], "SALES_MANAGER", "REJECTED", activated=may(2, 0), decided=may(2, 6))
    pending = seed.approval(d["d4"], "SALES_MANAGER", "PENDING", activated=may(30, 0), due=june(1, 0))

    assert [m.version for m in migrate(db.engine)] == [5, 6]  # 6 finds its table there already
    assert stored_hours(db) == pytest.approx({first: 2.0, second: 6.0, pending: None}, abs=1e-6)
    assert stats(db, ANALYST)[0] == pytest.approx(("SALES_MANAGER", 1, 1, 2, 4.0, 5.6), abs=1e-6)


def stored_hours(db: Database) -> dict[str, float | None]:
    """SQLite's decided_hours of every approval, checked against the value it stands for."""
    with db.engine.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT id, decided_hours, CASE WHEN status IN ('APPROVED', 'REJECTED', 'CHANGES_REQUESTED') "
            "THEN (julianday(decided_at) - julianday(activated_at)) * 24.0 END FROM deal_approvals").all()
    assert all(stored == computed for _, stored, computed in rows if computed is not None)
    return {row_id: stored for row_id, stored, _ in rows}
