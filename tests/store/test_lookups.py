"""Key lookups run statements built once (per caller where row rules apply) with their keys bound anew."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from gateway.core.roles import Role
from gateway.store import approval, children, deal
from gateway.store.database import Database
from tests.store.conftest import Seed, principal

START = dt.date(2026, 1, 1)


def a_deal(seed: Seed, number: str, *, owner: str, advertiser: str) -> str:
    """A DRAFT deal of `owner` in NA."""
    return seed.deal(number, owner=owner, advertiser=advertiser, agency=None, region="NA", status="DRAFT",
                     deal_type="PREFERRED_DEAL", value=Decimal("1000.00"), start=START)


async def test_each_caller_sees_only_their_own_deals_however_often_the_lookup_runs(
    db: Database, seed: Seed
) -> None:
    ann, bob = seed.user("ann", region="NA"), seed.user("bob", region="NA")
    advertiser = seed.advertiser("Acme")
    ann_deal = a_deal(seed, "DD-1", owner=ann, advertiser=advertiser)
    bob_deal = a_deal(seed, "DD-2", owner=bob, advertiser=advertiser)
    sellers = {ann: principal(ann, Role.SELLER), bob: principal(bob, Role.SELLER)}
    desk = principal(seed.user("desk", roles="DEAL_DESK"), Role.DEAL_DESK)

    for _ in range(2):
        for owner, caller in sellers.items():
            rows = await db.lookup(deal.get_by_ids, principal=caller, ids=[ann_deal, bob_deal])
            assert [row.owner_id for row in rows] == [owner]
        rows = await db.lookup(deal.get_by_ids, principal=desk, ids=[ann_deal, bob_deal])
        assert sorted(row.id for row in rows) == sorted([ann_deal, bob_deal])


async def test_a_lookup_binds_the_keys_of_each_call(db: Database, seed: Seed) -> None:
    owner = seed.user("ann", region="NA")
    advertiser = seed.advertiser("Acme")
    first, second = (a_deal(seed, f"DD-{n}", owner=owner, advertiser=advertiser) for n in (1, 2))
    stages = {first: seed.approval(first, "SALES_MANAGER", "PENDING"),
              second: seed.approval(second, "DEAL_DESK", "PENDING")}

    for keys in ([first], [second], [first, second], []):
        rows = await db.lookup(children.approvals, deal_ids=keys)
        assert sorted(row.id for row in rows) == sorted(stages[key] for key in keys)


def test_lookup_statements_are_built_once_per_caller() -> None:
    ann, bob = principal("ann", Role.SELLER), principal("bob", Role.SELLER)

    assert deal._by_ids(ann) is deal._by_ids(principal("ann", Role.SELLER))
    assert deal._by_ids(ann) is not deal._by_ids(bob)
    assert approval._by_ids(ann) is approval._by_ids(ann)
