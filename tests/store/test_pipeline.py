"""`pipeline.buckets` against the fixed data set of conftest (values by hand from DEALS)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from auth.principal import Principal
from gateway.core.roles import Role
from gateway.store import pipeline
from gateway.store.database import Database
from gateway.store.deal import DealCriteria
from tests.store.conftest import CREATED, World, principal, recorded

ANALYST = principal("analyst", Role.ANALYST)
ALL = DealCriteria()
Bucket = tuple[str, int, D]


def buckets(db: Database, who: Principal, group_by: str, criteria: DealCriteria = ALL) -> list[Bucket]:
    with db.engine.connect() as connection:
        return pipeline.buckets(connection, principal=who, group_by=group_by, criteria=criteria)


def test_by_status(db: Database, world: World) -> None:
    assert buckets(db, ANALYST, "STATUS") == [
        ("APPROVED", 2, D("3234.56")),  # d2 + d6 = 2000.00 + 1234.56
        ("DRAFT", 1, D("300.25")),  # d3
        ("PENDING_APPROVAL", 2, D("4100.50")),  # d1 + d4 = 100.50 + 4000.00
        ("REJECTED", 1, D("50.01")),  # d5
    ]


def test_by_region(db: Database, world: World) -> None:
    assert buckets(db, ANALYST, "REGION") == [
        ("EMEA", 4, D("3635.31")),  # d1 d2 d3 d6 = 100.50 + 2000.00 + 300.25 + 1234.56
        ("NA", 2, D("4050.01")),  # d4 d5 = 4000.00 + 50.01
    ]


def test_by_owner(db: Database, world: World) -> None:
    assert buckets(db, ANALYST, "OWNER") == sorted([
        (world.alice, 3, D("2400.75")),  # d1 d2 d3 = 100.50 + 2000.00 + 300.25
        (world.bob, 3, D("5284.57")),  # d4 d5 d6 = 4000.00 + 50.01 + 1234.56
    ])


def test_by_advertiser(db: Database, world: World) -> None:
    assert buckets(db, ANALYST, "ADVERTISER") == sorted([
        (world.adv1, 3, D("4400.75")),  # d1 d3 d4 = 100.50 + 300.25 + 4000.00
        (world.adv2, 3, D("3284.57")),  # d2 d5 d6 = 2000.00 + 50.01 + 1234.56
    ])


def test_by_agency_puts_deals_without_one_under_none(db: Database, world: World) -> None:
    assert buckets(db, ANALYST, "AGENCY") == sorted([
        (world.ag1, 3, D("3335.06")),  # d1 d2 d6 = 100.50 + 2000.00 + 1234.56
        (world.ag2, 2, D("4050.01")),  # d4 d5 = 4000.00 + 50.01
        ("NONE", 1, D("300.25")),  # d3
    ])


def test_by_month_of_start_date(db: Database, world: World) -> None:
    assert buckets(db, ANALYST, "MONTH") == [
        ("2024-01", 2, D("4100.50")),  # d1 (15th) + d4 (31st) = 100.50 + 4000.00
        ("2024-02", 2, D("2050.01")),  # d2 (10th) + d5 (29th, leap day) = 2000.00 + 50.01
        ("2024-03", 2, D("1534.81")),  # d3 (1st) + d6 (31st) = 300.25 + 1234.56
    ]


def test_by_deal_type(db: Database, world: World) -> None:
    assert buckets(db, ANALYST, "DEAL_TYPE") == [
        ("PREFERRED_DEAL", 3, D("450.76")),  # d1 d3 d5 = 100.50 + 300.25 + 50.01
        ("PRIVATE_MARKETPLACE", 1, D("4000.00")),  # d4
        ("PROGRAMMATIC_GUARANTEED", 2, D("3234.56")),  # d2 d6 = 2000.00 + 1234.56
    ]


@pytest.mark.parametrize("group_by", sorted(pipeline.KEYS))
def test_one_statement_per_call(db: Database, world: World, group_by: str) -> None:
    with recorded(db) as sent:
        buckets(db, ANALYST, group_by)
    assert len(sent) == 1


def test_criteria_narrow_the_buckets(db: Database, world: World) -> None:
    assert buckets(db, ANALYST, "STATUS", DealCriteria(region="EMEA")) == [
        ("APPROVED", 2, D("3234.56")),  # d2 d6
        ("DRAFT", 1, D("300.25")),  # d3
        ("PENDING_APPROVAL", 1, D("100.50")),  # d1
    ]
    assert buckets(db, ANALYST, "REGION", DealCriteria(min_value=D("1000"))) == [
        ("EMEA", 2, D("3234.56")),  # d2 d6
        ("NA", 1, D("4000.00")),  # d4
    ]
    by_status = DealCriteria(statuses=("APPROVED", "REJECTED"))
    assert buckets(db, ANALYST, "OWNER", by_status) == sorted([
        (world.alice, 1, D("2000.00")),  # d2
        (world.bob, 2, D("1284.57")),  # d5 d6 = 50.01 + 1234.56
    ])


def test_more_criteria(db: Database, world: World) -> None:
    assert buckets(db, ANALYST, "MONTH", DealCriteria(agency_id=world.ag1)) == [
        ("2024-01", 1, D("100.50")), ("2024-02", 1, D("2000.00")), ("2024-03", 1, D("1234.56")),
    ]
    # created_at of d1..d6 is CREATED + 0..5 days; the bound is exclusive: d4 d5 d6
    after = DealCriteria(created_after=CREATED + dt.timedelta(days=2))
    assert buckets(db, ANALYST, "REGION", after) == [("EMEA", 1, D("1234.56")), ("NA", 2, D("4050.01"))]
    # max_value is inclusive: d1 d3 d5 = 100.50 + 300.25 + 50.01
    assert buckets(db, ANALYST, "DEAL_TYPE", DealCriteria(max_value=D("300.25"))) == [
        ("PREFERRED_DEAL", 3, D("450.76")),
    ]
    assert buckets(db, ANALYST, "STATUS", DealCriteria(search="D5")) == [("REJECTED", 1, D("50.01"))]
    bobs_globex = DealCriteria(owner_id=world.bob, advertiser_id=world.adv2)  # d5 (ag2) d6 (ag1)
    assert buckets(db, ANALYST, "AGENCY", bobs_globex) == sorted([
        (world.ag1, 1, D("1234.56")), (world.ag2, 1, D("50.01")),
    ])


def test_seller_sees_only_own_deals(db: Database, world: World) -> None:
    alice, bob = principal(world.alice, Role.SELLER), principal(world.bob, Role.SELLER)
    assert buckets(db, alice, "REGION") == [("EMEA", 3, D("2400.75"))]  # d1 d2 d3
    assert buckets(db, bob, "REGION") == [
        ("EMEA", 1, D("1234.56")),  # d6
        ("NA", 2, D("4050.01")),  # d4 d5 = 4000.00 + 50.01
    ]
    assert buckets(db, alice, "STATUS", DealCriteria(owner_id=world.bob)) == []


def test_sales_manager_sees_own_region_only(db: Database, world: World) -> None:
    na = principal(world.carol, Role.SALES_MANAGER, region="NA")
    emea = principal(world.dave, Role.SALES_MANAGER, region="EMEA")
    assert buckets(db, na, "REGION") == [("NA", 2, D("4050.01"))]  # d4 d5
    assert buckets(db, emea, "REGION") == [("EMEA", 4, D("3635.31"))]  # d1 d2 d3 d6
    assert buckets(db, emea, "OWNER") == sorted([
        (world.alice, 3, D("2400.75")), (world.bob, 1, D("1234.56")),  # bob's d6 is in EMEA
    ])


def test_no_roles_sees_nothing(db: Database, world: World) -> None:
    nobody = principal(world.alice, region="EMEA")
    assert all(buckets(db, nobody, group_by) == [] for group_by in pipeline.KEYS)


def test_empty_store(db: Database) -> None:
    assert buckets(db, ANALYST, "MONTH") == []


def test_unknown_grouping(db: Database) -> None:
    with pytest.raises(ValueError, match="WEEK"):
        buckets(db, ANALYST, "WEEK")
