"""A fresh migrated store per test (SQLite, plus PostgreSQL when configured) and row-insert helpers."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from sqlalchemy import Table, event
from sqlalchemy.engine import make_url

from auth.principal import Principal
from gateway.core.ids import new_id
from gateway.core.roles import Role
from gateway.core.tables import STAGES, advertisers, agencies, deal_approvals, deals, users
from gateway.store.database import Database
from gateway.store.migrate import migrate

POSTGRES_URL = os.environ.get("DEAL_DESK_TEST_POSTGRES_URL")
STORES = ["sqlite", *([pytest.param("postgresql", marks=pytest.mark.postgres)] if POSTGRES_URL else [])]
CREATED = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


@pytest.fixture(params=STORES)
def db(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Database]:
    """An empty, migrated store of the parametrized kind."""
    if request.param == "sqlite":
        yield from _open(f"sqlite:///{tmp_path}/t.db")
        return
    assert POSTGRES_URL is not None
    server = make_url(POSTGRES_URL).set(drivername="postgresql")
    name = f"deal_desk_test_{uuid.uuid4().hex}"
    _admin(server.render_as_string(hide_password=False), f'CREATE DATABASE "{name}"')
    try:
        yield from _open(server.set(database=name).render_as_string(hide_password=False))
    finally:
        _admin(server.render_as_string(hide_password=False), f'DROP DATABASE "{name}" WITH (FORCE)')


def _open(url: str) -> Iterator[Database]:
    database = Database(url)
    migrate(database.engine)
    try:
        yield database
    finally:
        database.dispose()


def _admin(url: str, sql: str) -> None:
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(sql.encode())


@contextmanager
def recorded(db: Database) -> Iterator[list[str]]:
    """The SQL statements sent to `db` inside the block."""
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, sql: str, *_rest: Any) -> None:
        sent.append(sql)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


class Seed:
    """Inserts rows directly with SQLAlchemy Core; each helper returns the new id."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def _insert(self, table: Table, **values: Any) -> str:
        row = {"id": new_id(), **values}
        with self.db.engine.begin() as connection:
            connection.execute(table.insert().values(**row))
        return str(row["id"])

    def user(self, name: str, *, region: str | None = None, roles: str = "SELLER") -> str:
        """A users row."""
        return self._insert(
            users, sub=f"sub-{name}", email=f"{name}@example.com", display_name=name,
            region=region, roles=roles, active=True, created_at=CREATED, updated_at=CREATED,
        )

    def advertiser(self, name: str) -> str:
        """An advertisers row."""
        return self._insert(advertisers, name=name, created_at=CREATED, updated_at=CREATED)

    def agency(self, name: str) -> str:
        """An agencies row."""
        return self._insert(agencies, name=name, created_at=CREATED, updated_at=CREATED)

    def deal(
        self, number: str, *, owner: str, advertiser: str, agency: str | None, region: str,
        status: str, deal_type: str, value: Decimal, start: dt.date,
        created_at: dt.datetime = CREATED,
    ) -> str:
        """A deals row lasting 30 days from `start`."""
        return self._insert(
            deals, deal_number=number, name=f"Deal {number}", status=status, deal_type=deal_type,
            channels="DISPLAY", region=region, currency="USD", total_value=value, start_date=start,
            end_date=start + dt.timedelta(days=30), version=1, owner_id=owner,
            advertiser_id=advertiser, agency_id=agency, created_at=created_at, updated_at=created_at,
        )

    def approval(
        self, deal: str, stage: str, status: str, *, round: int = 1,
        activated: dt.datetime | None = None, due: dt.datetime | None = None,
        decided: dt.datetime | None = None,
    ) -> str:
        """A deal_approvals row; its sequence is the stage's place in the chain."""
        return self._insert(
            deal_approvals, deal_id=deal, round=round, stage=stage, sequence=STAGES.index(stage) + 1,
            status=status, activated_at=activated, due_at=due, decided_at=decided, created_at=CREATED,
        )


@pytest.fixture
def seed(db: Database) -> Seed:
    """Row-insert helpers bound to `db`."""
    return Seed(db)


def principal(user_id: str, *roles: Role, region: str | None = None) -> Principal:
    """A caller bound to `user_id` holding `roles`."""
    return Principal(
        user_id=user_id, sub=f"sub-{user_id}", email=f"{user_id}@example.com", name=user_id,
        roles=frozenset(roles), region=region,
    )


@dataclass(frozen=True)
class World:
    """The fixed data set: ids of its users, advertisers, agencies and deals (d1..d6)."""

    alice: str  # SELLER, EMEA
    bob: str  # SELLER, NA
    carol: str  # SALES_MANAGER, NA, owns nothing
    dave: str  # SALES_MANAGER, EMEA, owns nothing
    adv1: str
    adv2: str
    ag1: str
    ag2: str
    deals: dict[str, str]


# number: (owner, region, advertiser, agency, status, deal type, value, start date)
DEALS = {
    "d1": ("alice", "EMEA", "adv1", "ag1", "PENDING_APPROVAL", "PREFERRED_DEAL", "100.50", "2024-01-15"),
    "d2": ("alice", "EMEA", "adv2", "ag1", "APPROVED", "PROGRAMMATIC_GUARANTEED", "2000.00", "2024-02-10"),
    "d3": ("alice", "EMEA", "adv1", None, "DRAFT", "PREFERRED_DEAL", "300.25", "2024-03-01"),
    "d4": ("bob", "NA", "adv1", "ag2", "PENDING_APPROVAL", "PRIVATE_MARKETPLACE", "4000.00", "2024-01-31"),
    "d5": ("bob", "NA", "adv2", "ag2", "REJECTED", "PREFERRED_DEAL", "50.01", "2024-02-29"),
    # bob's deal booked in EMEA: visible to bob (owner) and to EMEA's manager (region).
    "d6": ("bob", "EMEA", "adv2", "ag1", "APPROVED", "PROGRAMMATIC_GUARANTEED", "1234.56", "2024-03-31"),
}


@pytest.fixture
def world(seed: Seed) -> World:
    """Four users, two advertisers, two agencies and the six DEALS, created in that order."""
    people = {
        "alice": seed.user("alice", region="EMEA"), "bob": seed.user("bob", region="NA"),
        "carol": seed.user("carol", region="NA", roles="SALES_MANAGER"),
        "dave": seed.user("dave", region="EMEA", roles="SALES_MANAGER"),
    }
    parties = {
        "adv1": seed.advertiser("Acme"), "adv2": seed.advertiser("Globex"),
        "ag1": seed.agency("Mindshare"), "ag2": seed.agency("Zenith"),
    }
    ids = {**people, **parties}
    created = {number: _deal(seed, ids, index, number) for index, number in enumerate(DEALS)}
    return World(**people, **parties, deals=created)


def _deal(seed: Seed, ids: dict[str, str], index: int, number: str) -> str:
    owner, region, adv, agency, status, kind, value, start = DEALS[number]
    return seed.deal(
        number, owner=ids[owner], region=region, advertiser=ids[adv],
        agency=ids[agency] if agency else None, status=status, deal_type=kind,
        value=Decimal(value), start=dt.date.fromisoformat(start),
        created_at=CREATED + dt.timedelta(days=index),
    )
