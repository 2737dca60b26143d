"""createScopingRequest: a seller's (or manager's, or the desk's) request to scope a deal."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from auth.actions import Action, require
from gateway.core.ids import require_id
from gateway.store import scoping_writes
from resolvers.common.context import Context
from resolvers.common.validation import NOTE_LENGTH, currency, date_range, money, text
from resolvers.scoping.inputs import CreateScopingRequestInput
from resolvers.scoping.types import ScopingRequest


def validate(value: CreateScopingRequestInput) -> dict[str, Any]:
    """Column values of a valid input; the referenced advertiser and agency are checked when written."""
    date_range(value.desired_start, value.desired_end, "input.desiredEnd")
    budget = value.estimated_budget
    return {
        "title": text(value.title, "input.title", required=True),
        "objective": text(value.objective, "input.objective", max_length=NOTE_LENGTH),
        "advertiser_id": require_id(value.advertiser_id, "input.advertiserId"),
        "agency_id": None if value.agency_id is None else require_id(value.agency_id, "input.agencyId"),
        "estimated_budget": None if budget is None else money(budget, "input.estimatedBudget"),
        "currency": currency(value.currency, "input.currency"),
        "desired_start": value.desired_start,
        "desired_end": value.desired_end,
    }


@strawberry.type
class CreateScopingRequestMutation:
    @strawberry.mutation
    async def create_scoping_request(self, info: Info[Context, None],
                                     input: CreateScopingRequestInput) -> ScopingRequest:
        context = info.context
        require(context.principal, Action.CREATE_SCOPING_REQUEST)
        row = await context.db.write(scoping_writes.create, actor=context.actor(),
                                     principal=context.principal, values=validate(input))
        return ScopingRequest.from_row(row)
