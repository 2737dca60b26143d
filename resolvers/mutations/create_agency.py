"""createAgency: reference data every role but ANALYST and LEGAL may add."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from auth.actions import Action, require
from gateway.core.tables import agencies
from gateway.store import party
from resolvers.common.context import Context
from resolvers.common.validation import text
from resolvers.party.inputs import CreateAgencyInput
from resolvers.party.types import Agency


def validate(value: CreateAgencyInput) -> dict[str, Any]:
    """Column values of a valid input."""
    return {
        "name": text(value.name, "input.name", required=True),
        "holding_company": text(value.holding_company, "input.holdingCompany"),
        "region": text(value.region, "input.region", max_length=32),
    }


@strawberry.type
class CreateAgencyMutation:
    @strawberry.mutation
    async def create_agency(self, info: Info[Context, None], input: CreateAgencyInput) -> Agency:
        context = info.context
        require(context.principal, Action.CREATE_AGENCY)
        row = await context.db.write(party.create, actor=context.actor(), table=agencies,
                                     values=validate(input))
        return Agency.from_row(row)
