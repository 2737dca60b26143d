"""The scoping mutations' inputs."""


from __future__ import annotations

import datetime as dt
from decimal import Decimal

import strawberry


@strawberry.input
class CreateScopingRequestInput:
    title: str
    objective: str | None = None
    advertiser_id: strawberry.ID
    agency_id: strawberry.ID | None = None
    estimated_budget: Decimal | None = None
    currency: str = "USD"
    desired_start: dt.date | None = None
    desired_end: dt.date | None = None
