"""Demo data: complete, deterministic and consistent with the workflow rules."""

from __future__ import annotations

import random
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, Select, select, text

from gateway.core import tables as t
from gateway.ops.seed import (
    ANCHOR,
    DEMO_USERS,
    FULL_SCALE,
    add_months,
    reference_batch,
    reference_sizes,
    seed,
)
from gateway.store.database import Database
from gateway.store.migrate import migrate
from gateway.workflow.rules import required_stages


def fresh_engine(path: Path) -> Engine:
    """A migrated, empty SQLite store at `path`."""
    db = Database(f"sqlite:///{path}")
    migrate(db.engine)
    return db.engine


def scalar(engine: Engine, sql: str) -> Any:
    """The single value `sql` selects."""
    with engine.connect() as connection:
        return connection.execute(text(sql)).scalar_one()


def rows(engine: Engine, sql: str) -> list[Any]:
    """Every row `sql` selects, as stored."""
    with engine.connect() as connection:
        return list(connection.execute(text(sql)).all())


def dump(engine: Engine) -> dict[str, list[Any]]:
    """Every core table, ordered by id."""
    return {table.name: rows(engine, f"SELECT * FROM {table.name} ORDER BY id")
            for table in t.CORE_TABLES}


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Engine, dict[str, int]]:
    """A store seeded at scale 1, shared by the read-only tests."""
    engine = fresh_engine(tmp_path_factory.mktemp("seed") / "t.db")
    return engine, seed(engine, scale=1, progress=False)


def test_counts_are_the_rows_written(seeded: tuple[Engine, dict[str, int]]) -> None:
    engine, counts = seeded
    assert counts == {table.name: scalar(engine, f"SELECT count(*) FROM {table.name}")
                      for table in t.CORE_TABLES}
    assert 900 <= counts["deals"] <= 1200
    assert 20 <= counts["users"] <= 60 and 50 <= counts["advertisers"] <= 100


def test_every_status_and_scoping_status(seeded: tuple[Engine, dict[str, int]]) -> None:
    engine, _ = seeded
    assert {r[0] for r in rows(engine, "SELECT DISTINCT status FROM deals")} == set(t.DEAL_STATUSES)
    scoping = rows(engine, "SELECT DISTINCT status FROM deal_scoping_requests")
    assert {r[0] for r in scoping} == set(t.SCOPING_STATUSES)


def test_demo_users_are_there(seeded: tuple[Engine, dict[str, int]]) -> None:
    engine, _ = seeded
    found = {r.email: r for r in rows(engine, "SELECT email, sub, roles, region FROM users")}
    for email, role, region in DEMO_USERS:
        assert (found[email].sub, found[email].roles, found[email].region) == (
            f"dev|{email}", role, region)
    roles = {role for r in found.values() for role in r.roles.split(",")}
    assert roles == {"SELLER", "SALES_MANAGER", "DEAL_DESK", "FINANCE", "LEGAL", "EXECUTIVE",
                     "ANALYST", "ADMIN"}


def test_same_seed_same_rows(tmp_path: Path) -> None:
    first, second = fresh_engine(tmp_path / "a.db"), fresh_engine(tmp_path / "b.db")
    seed(first, scale=1, seed=11, progress=False)
    seed(second, scale=1, seed=11, progress=False)
    assert dump(first) == dump(second)


def chains(engine: Engine) -> dict[tuple[str, int], list[str]]:
    """Stages of every approval round, in sequence order."""
    found: dict[tuple[str, int], list[str]] = defaultdict(list)
    for r in rows(engine, "SELECT deal_id, round, stage FROM deal_approvals "
                          "ORDER BY deal_id, round, sequence"):
        found[(r.deal_id, r.round)].append(r.stage)
    return found


def decoded(engine: Engine, stmt: Select[Any]) -> list[Any]:
    """Rows of `stmt`, read through the tables' types (exact decimals)."""
    with engine.connect() as connection:
        return list(connection.execute(stmt).all())


def test_chains_follow_the_rules(seeded: tuple[Engine, dict[str, int]]) -> None:
    engine, _ = seeded
    tiers, percents = defaultdict(list), defaultdict(list)
    for tier in decoded(engine, select(t.deal_tiers)):
        tiers[tier.deal_id].append(tier.margin_pct)
    for incentive in decoded(engine, select(t.incentive_values).where(
            t.incentive_values.c.unit == "PERCENT")):
        percents[incentive.deal_id].append(incentive.value)
    deals = {d.id: d for d in decoded(engine, select(t.deals))}
    for (deal_id, _), stages in chains(engine).items():
        deal = deals[deal_id]
        assert stages == required_stages(
            total_value=deal.total_value, target_margin_pct=deal.target_margin_pct,
            tier_margins=tiers[deal_id], percent_incentives=percents[deal_id],
            non_standard_terms=deal.non_standard_terms,
        )
    assert {deal_id for deal_id, _ in chains(engine)} == {
        d.id for d in deals.values() if d.submitted_at is not None}


def test_nobody_decides_their_own_deal(seeded: tuple[Engine, dict[str, int]]) -> None:
    engine, _ = seeded
    assert scalar(engine, "SELECT count(*) FROM deal_approvals a JOIN deals d ON d.id = a.deal_id "
                          "WHERE a.decided_by = d.owner_id") == 0
    assert scalar(engine, "SELECT count(*) FROM deal_approvals a JOIN deals d ON d.id = a.deal_id "
                          "JOIN users u ON u.id = a.decided_by "
                          "WHERE ',' || u.roles || ',' NOT LIKE '%,' || a.stage || ',%' "
                          "OR (a.stage = 'SALES_MANAGER' AND u.region <> d.region)") == 0
    assert scalar(engine, "SELECT count(*) FROM deal_approvals WHERE (decided_by IS NULL) <> "
                          "(status IN ('WAITING', 'PENDING', 'CANCELLED'))") == 0


def test_decisions_are_actions(seeded: tuple[Engine, dict[str, int]]) -> None:
    engine, _ = seeded
    assert scalar(engine, "SELECT count(*) FROM deal_approvals WHERE decided_by IS NOT NULL") == \
        scalar(engine, "SELECT count(*) FROM approval_actions x JOIN deal_approvals a "
                       "ON a.id = x.approval_id AND a.decided_by = x.actor_id "
                       "AND a.decided_at = x.created_at AND a.deal_id = x.deal_id "
                       "WHERE x.action <> 'COMMENT'")
    assert scalar(engine, "SELECT count(*) FROM approval_actions WHERE action = 'COMMENT'") > 0


def test_pending_deals_have_one_pending_stage(seeded: tuple[Engine, dict[str, int]]) -> None:
    engine, _ = seeded
    per_status = rows(engine, "SELECT d.status, count(*) AS n FROM deal_approvals a "
                              "JOIN deals d ON d.id = a.deal_id WHERE a.status = 'PENDING' "
                              "GROUP BY d.status")
    pending = scalar(engine, "SELECT count(*) FROM deals WHERE status = 'PENDING_APPROVAL'")
    assert [(r.status, r.n) for r in per_status] == [("PENDING_APPROVAL", pending)]
    assert scalar(engine, "SELECT count(*) FROM deal_approvals WHERE status = 'PENDING' "
                          f"AND due_at < '{ANCHOR:%Y-%m-%d}'") > 0


def test_tiers_do_not_overlap(seeded: tuple[Engine, dict[str, int]]) -> None:
    engine, _ = seeded
    assert scalar(engine, "SELECT count(*) FROM deal_tiers a JOIN deal_tiers b "
                          "ON a.deal_id = b.deal_id AND b.tier_number = a.tier_number + 1 "
                          "WHERE a.max_spend IS NULL OR a.max_spend >= b.min_spend") == 0
    assert scalar(engine, "SELECT count(*) FROM (SELECT deal_id FROM deal_tiers GROUP BY deal_id "
                          "HAVING max(tier_number) <> count(*) OR min(tier_number) <> 1)") == 0


def test_history_ends_in_the_deal_status(seeded: tuple[Engine, dict[str, int]]) -> None:
    engine, _ = seeded
    last: dict[str, str] = {}
    previous: dict[str, str | None] = {}
    for r in rows(engine, "SELECT deal_id, from_status, to_status FROM deal_status_history "
                          "ORDER BY deal_id, changed_at"):
        assert r.from_status == previous.get(r.deal_id)
        previous[r.deal_id] = last[r.deal_id] = r.to_status
    assert last == {r.id: r.status for r in rows(engine, "SELECT id, status FROM deals")}
    assert scalar(engine, "SELECT count(*) FROM deals d WHERE version < "
                          "(SELECT count(*) FROM deal_status_history h WHERE h.deal_id = d.id)") == 0


def test_converted_requests_point_at_the_requesters_deal(
    seeded: tuple[Engine, dict[str, int]],
) -> None:
    engine, _ = seeded
    assert scalar(engine, "SELECT count(*) FROM deal_scoping_requests s LEFT JOIN deals d "
                          "ON d.id = s.converted_deal_id WHERE (s.status = 'CONVERTED') <> "
                          "(d.owner_id IS NOT NULL AND d.owner_id = s.requested_by)") == 0
    assert scalar(engine, "SELECT count(*) FROM deal_scoping_requests s JOIN users u "
                          "ON u.id = s.requested_by WHERE s.region <> u.region") == 0


def test_a_converted_request_is_titled_after_its_deals_advertiser(
    seeded: tuple[Engine, dict[str, int]],
) -> None:
    engine, _ = seeded
    converted = rows(engine, "SELECT s.title, a.name FROM deal_scoping_requests s JOIN deals d "
                             "ON d.id = s.converted_deal_id JOIN advertisers a ON a.id = d.advertiser_id")
    assert len(converted) > 10
    assert [(title, name) for title, name in converted if not title.startswith(f"{name}: ")] == []


def test_nothing_happens_after_the_anchor(seeded: tuple[Engine, dict[str, int]]) -> None:
    engine, _ = seeded
    anchor = f"{ANCHOR:%Y-%m-%d %H:%M:%S}"
    for table, column in (("deals", "updated_at"), ("deal_status_history", "changed_at"),
                          ("approval_actions", "created_at"), ("deal_approvals", "decided_at")):
        assert scalar(engine, f"SELECT count(*) FROM {table} WHERE {column} >= '{anchor}'") == 0


def test_reseeding_refuses(seeded: tuple[Engine, dict[str, int]]) -> None:
    engine, counts = seeded
    with pytest.raises(ValueError, match="already holds"):
        seed(engine, scale=1, progress=False)
    assert scalar(engine, "SELECT count(*) FROM deals") == counts["deals"]


def test_reference_data_reaches_full_size() -> None:
    rng, start = random.Random(7), add_months(ANCHOR, -FULL_SCALE)
    assert reference_sizes(1)[0] < 100 and reference_sizes(200) == (500, 2000, 500)
    batch, cast = reference_batch(rng, FULL_SCALE, start, {})
    assert [len(batch[name]) for name in ("users", "advertisers", "agencies")] == [500, 2000, 500]
    assert len({row["name"] for row in batch["agencies"]}) == 500
    assert sum("SELLER" in user.roles for user in cast.users) >= 200
