"""createAdvertiser: reference data every role but ANALYST and LEGAL may add."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from auth.actions import Action, require
from gateway.core.tables import advertisers
from gateway.store import party
from resolvers.common.context import Context
from resolvers.common.validation import text
from resolvers.party.inputs import CreateAdvertiserInput
from resolvers.party.types import Advertiser


def validate(value: CreateAdvertiserInput) -> dict[str, Any]:
    """Column values of a valid input."""
    return {
        "name": text(value.name, "input.name", required=True),
        "industry": text(value.industry, "input.industry", max_length=100),
        "region": text(value.region, "input.region", max_length=32),
    }


@strawberry.type
class CreateAdvertiserMutation:
    @strawberry.mutation
    async def create_advertiser(self, info: Info[Context, None], input: CreateAdvertiserInput) -> Advertiser:
        context = info.context
        require(context.principal, Action.CREATE_ADVERTISER)
        row = await context.db.write(party.create, actor=context.actor(), table=advertisers,
                                     values=validate(input))
        return Advertiser.from_row(row)
