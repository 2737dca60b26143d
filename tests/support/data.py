"""Builds small, fixed data sets directly with SQLAlchemy Core; every helper returns the new id."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, Table

from gateway.core import tables
from gateway.core.ids import new_id

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


class Data:
    """Inserts rows one statement each; timestamps advance one minute per deal unless given."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.clock = T0
        self.region_of: dict[str, str | None] = {}
        self.numbers = 0
        self.connection: Connection | None = None

    def insert(self, table: Table, **values: Any) -> str:
        """Insert one row (id generated unless given), in the open batch if there is one."""
        values.setdefault("id", new_id())
        if self.connection is not None:
            self.connection.execute(table.insert().values(**values))
        else:
            with self.engine.begin() as connection:
                connection.execute(table.insert().values(**values))
        return str(values["id"])

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Insert everything of the block in one transaction (large data sets)."""
        with self.engine.begin() as connection:
            self.connection = connection
            try:
                yield
            finally:
                self.connection = None

    def tick(self, minutes: int = 1) -> dt.datetime:
        """The next moment of the data set's clock."""
        self.clock += dt.timedelta(minutes=minutes)
        return self.clock

    def user(self, email: str, *roles: str, region: str | None = "NA") -> str:
        """A user whose dev-token subject is `dev|<email>`."""
        user_id = self.insert(
            tables.users, sub=f"dev|{email.lower()}", email=email, display_name=email.split("@")[0],
            region=region, roles=",".join(roles), active=True, created_at=T0, updated_at=T0,
        )
        self.region_of[user_id] = region
        return user_id

    def advertiser(self, name: str, *, industry: str | None = None, region: str | None = None) -> str:
        """An advertiser."""
        return self.insert(tables.advertisers, name=name, industry=industry, region=region,
                           created_at=T0, updated_at=T0)

    def agency(self, name: str, *, holding_company: str | None = None, region: str | None = None) -> str:
        """An agency."""
        return self.insert(tables.agencies, name=name, holding_company=holding_company, region=region,
                           created_at=T0, updated_at=T0)

    def deal(self, *, owner: str, advertiser: str, **values: Any) -> str:
        """A deal; any column may be overridden."""
        self.numbers += 1
        created = values.pop("created_at", None) or self.tick()
        row = {
            "deal_number": f"DD-2026-{self.numbers:06d}", "name": f"Deal {self.numbers}",
            "status": "DRAFT", "deal_type": "PREFERRED_DEAL", "channels": "DISPLAY,VIDEO",
            "region": self.region_of.get(owner) or "NA", "currency": "USD",
            "total_value": Decimal("1000.00"), "start_date": dt.date(2026, 3, 1),
            "end_date": dt.date(2026, 6, 30), "target_margin_pct": Decimal("35"),
            "floor_cpm": Decimal("2.5"), "version": 1, "agency_id": None,
            "created_at": created, "updated_at": created,
        }
        return self.insert(tables.deals, owner_id=owner, advertiser_id=advertiser, **{**row, **values})

    def tier(self, deal: str, number: int, min_spend: str, max_spend: str | None, cpm: str,
             margin: str | None = None) -> str:
        """A pricing tier."""
        return self.insert(
            tables.deal_tiers, deal_id=deal, tier_number=number, min_spend=Decimal(min_spend),
            max_spend=Decimal(max_spend) if max_spend else None, cpm=Decimal(cpm),
            margin_pct=Decimal(margin) if margin else None,
        )

    def incentive(self, deal: str, position: int, kind: str, unit: str, value: str) -> str:
        """An incentive."""
        return self.insert(tables.incentive_values, deal_id=deal, position=position, type=kind, unit=unit,
                           value=Decimal(value), description=f"{kind} {value}", created_at=T0)

    def approval(self, deal: str, stage: str, sequence: int, status: str, **values: Any) -> str:
        """An approval stage (round 1 and its own step unless given)."""
        values.setdefault("round", 1)
        values.setdefault("step", sequence)
        return self.insert(tables.deal_approvals, deal_id=deal, stage=stage, sequence=sequence,
                           status=status, created_at=T0, **values)

    def action(self, approval: str, deal: str, actor: str, action: str, comment: str | None = None) -> str:
        """A decision or comment on an approval."""
        return self.insert(tables.approval_actions, approval_id=approval, deal_id=deal, action=action,
                           actor_id=actor, comment=comment, created_at=self.tick())

    def change(self, deal: str, by: str, to_status: str, from_status: str | None = None) -> str:
        """A status-history row."""
        return self.insert(tables.deal_status_history, deal_id=deal, from_status=from_status,
                           to_status=to_status, changed_by=by, reason=None, changed_at=self.tick())

    def scoping(self, *, requested_by: str, advertiser: str, **values: Any) -> str:
        """A scoping request."""
        created = self.tick()
        row = {"title": "Scope", "status": "OPEN", "currency": "USD", "created_at": created,
               "updated_at": created, "region": self.region_of.get(requested_by)}
        return self.insert(tables.deal_scoping_requests, requested_by=requested_by,
                           advertiser_id=advertiser, **{**row, **values})

    def delete(self, table: Table, row_id: str) -> None:
        """Delete one row by id."""
        with self.engine.begin() as connection:
            connection.execute(table.delete().where(table.c.id == row_id))
