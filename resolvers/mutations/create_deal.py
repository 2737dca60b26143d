"""createDeal: a DRAFT deal owned by the caller, with its tiers and incentives."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from auth.actions import Action, require
from auth.principal import Principal
from gateway.workflow import deal as workflow
from gateway.workflow.notices import evented
from resolvers.common.context import Context
from resolvers.deal import validation as check
from resolvers.deal.inputs import CreateDealInput
from resolvers.deal.types import Deal
from resolvers.mutations.deal_result import committed

WRITE = evented("CREATED", workflow.create)  # and its DealEvent's webhook, in one transaction


def validate(value: CreateDealInput, principal: Principal) -> dict[str, Any]:
    """The deal's columns, tiers and incentives of a valid input (region: given, else the caller's)."""
    return {
        "values": check.deal_fields(value, default_region=principal.region),
        "tiers": check.tiers(value.tiers or [], "input.tiers"),
        "incentives": check.incentives(value.incentives or [], "input.incentives"),
    }


@strawberry.type
class CreateDealMutation:
    @strawberry.mutation
    async def create_deal(self, info: Info[Context, None], input: CreateDealInput) -> Deal:
        context = info.context
        require(context.principal, Action.CREATE_DEAL)
        checked = validate(input, context.principal)
        actor = context.actor()
        deal_id = await context.db.write(WRITE, principal=context.principal, actor=actor, **checked)
        return await committed(context, actor, "CREATED", deal_id)
