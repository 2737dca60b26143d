"""setDealIncentives: replace the incentives of a DRAFT or CHANGES_REQUESTED deal."""

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
from resolvers.deal.inputs import IncentiveInput
from resolvers.deal.types import Deal
from resolvers.mutations.deal_result import committed, require_role

WRITE = evented("UPDATED", workflow.set_incentives)  # and its DealEvent's webhook, in one transaction


def validate(deal_id: str, incentives: list[IncentiveInput]) -> tuple[str, list[dict[str, Any]]]:
    """The deal id and the valid incentives, in order."""
    return require_id(deal_id, "dealId"), check.incentives(incentives, "incentives")


@strawberry.type
class SetDealIncentivesMutation:
    @strawberry.mutation
    async def set_deal_incentives(self, info: Info[Context, None], deal_id: strawberry.ID,
                                  expected_version: int, incentives: list[IncentiveInput]) -> Deal:
        context = info.context
        require_role(context.principal, Action.SET_DEAL_INCENTIVES)
        checked_id, checked = validate(deal_id, incentives)
        actor = context.actor()
        await context.db.write(WRITE, principal=context.principal, actor=actor,
                               deal_id=checked_id, expected_version=expected_version, incentives=checked)
        return await committed(context, actor, "UPDATED", checked_id)
