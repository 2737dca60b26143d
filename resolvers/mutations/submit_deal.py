"""submitDeal: send a DRAFT or CHANGES_REQUESTED deal into its approval chain."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from auth.actions import Action
from gateway.core.ids import require_id
from gateway.workflow import deal as workflow
from gateway.workflow.notices import evented
from gateway.workflow.rules_file import approval_rules
from resolvers.common.context import Context
from resolvers.deal.types import Deal
from resolvers.mutations.deal_result import committed, require_role

WRITE = evented("SUBMITTED", workflow.submit)  # and its DealEvent's webhook, in one transaction


def validate(id: str) -> str:
    """The deal id."""
    return require_id(id, "id")


@strawberry.type
class SubmitDealMutation:
    @strawberry.mutation
    async def submit_deal(self, info: Info[Context, None], id: strawberry.ID, expected_version: int) -> Deal:
        context = info.context
        require_role(context.principal, Action.SUBMIT_DEAL)
        deal_id = validate(id)
        actor = context.actor()
        await context.db.write(WRITE, principal=context.principal, actor=actor, deal_id=deal_id,
                               expected_version=expected_version,
                               rules=approval_rules(context.settings.approval_rules_file))
        return await committed(context, actor, "SUBMITTED", deal_id)
