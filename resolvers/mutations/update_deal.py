"""updateDeal: change the fields of a DRAFT or CHANGES_REQUESTED deal (owner, deal desk, admin)."""

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
from resolvers.deal.inputs import UpdateDealInput
from resolvers.deal.types import Deal
from resolvers.mutations.deal_result import committed, require_role

WRITE = evented("UPDATED", workflow.update)  # and its DealEvent's webhook, in one transaction


def validate(id: str, value: UpdateDealInput) -> tuple[str, dict[str, Any]]:
    """The deal id and the valid column changes (the end date is checked against the stored deal too)."""
    return require_id(id, "id"), check.update_fields(value)


@strawberry.type
class UpdateDealMutation:
    @strawberry.mutation
    async def update_deal(self, info: Info[Context, None], id: strawberry.ID, expected_version: int,
                          input: UpdateDealInput) -> Deal:
        context = info.context
        require_role(context.principal, Action.UPDATE_DEAL)
        deal_id, changes = validate(id, input)
        actor = context.actor()
        await context.db.write(WRITE, principal=context.principal, actor=actor, deal_id=deal_id,
                               expected_version=expected_version, changes=changes)
        return await committed(context, actor, "UPDATED", deal_id)
