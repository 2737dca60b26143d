"""withdrawDeal: take a DRAFT, PENDING_APPROVAL, CHANGES_REQUESTED or APPROVED deal out of the workflow."""

from __future__ import annotations

import dataclasses

import strawberry
from strawberry.types import Info

from auth.actions import Action
from gateway.core.ids import require_id
from gateway.workflow import deal as workflow
from gateway.workflow.notices import evented
from resolvers.common.context import Context
from resolvers.deal.types import Deal
from resolvers.deal.validation import required_text
from resolvers.mutations.deal_result import committed, require_role

WRITE = evented("WITHDRAWN", workflow.withdraw)  # and its DealEvent's webhook, in one transaction


def validate(id: str, reason: str) -> tuple[str, str]:
    """The deal id and the trimmed, non-blank reason."""
    return require_id(id, "id"), required_text(reason, "reason")


@strawberry.type
class WithdrawDealMutation:
    @strawberry.mutation
    async def withdraw_deal(self, info: Info[Context, None], id: strawberry.ID, expected_version: int,
                            reason: str) -> Deal:
        context = info.context
        require_role(context.principal, Action.WITHDRAW_DEAL)
        deal_id, why = validate(id, reason)
        actor = dataclasses.replace(context.actor(), reason=why)
        await context.db.write(WRITE, principal=context.principal, actor=actor, deal_id=deal_id,
                               expected_version=expected_version, reason=why)
        return await committed(context, actor, "WITHDRAWN", deal_id)
