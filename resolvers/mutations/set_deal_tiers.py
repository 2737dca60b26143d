"""setDealTiers: replace the pricing tiers of a DRAFT or CHANGES_REQUESTED deal."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from auth.actions import Action
from gateway.core.ids import require_id
from gateway.workflow import deal as workflow
from gateway.workflow.notices import evented
from resolvers.common.context import Context
from resolvers.deal import validation as check
from resolvers.deal.inputs import DealTierInput
from resolvers.deal.types import Deal
from resolvers.mutations.deal_result import committed, require_role

WRITE = evented("UPDATED", workflow.set_tiers)  # and its DealEvent's webhook, in one transaction


def validate(deal_id: str, tiers: list[DealTierInput]) -> tuple[str, list[dict[str, Any]]]:
    """The deal id and the valid tiers, in order."""
    return require_id(deal_id, "dealId"), check.tiers(tiers, "tiers")


@strawberry.type
class SetDealTiersMutation:
    @strawberry.mutation
    async def set_deal_tiers(self, info: Info[Context, None], deal_id: strawberry.ID, expected_version: int,
                             tiers: list[DealTierInput]) -> Deal:
        context = info.context
        require_role(context.principal, Action.SET_DEAL_TIERS)
        checked_id, checked = validate(deal_id, tiers)
        actor = context.actor()
        await context.db.write(WRITE, principal=context.principal, actor=actor,
                               deal_id=checked_id, expected_version=expected_version, tiers=checked)
        return await committed(context, actor, "UPDATED", checked_id)
