"""closeDeal: an APPROVED deal is won or lost."""

from __future__ import annotations

import dataclasses

import strawberry
from strawberry.types import Info

from auth.actions import Action
from gateway.core.ids import require_id
from gateway.workflow import deal as workflow
from gateway.workflow.notices import evented
from resolvers.common.context import Context
from resolvers.common.validation import NOTE_LENGTH, text
from resolvers.deal.types import Deal
from resolvers.mutations.deal_result import committed, require_role

WRITE = evented("CLOSED", workflow.close)  # and its DealEvent's webhook, in one transaction


def validate(id: str, reason: str | None) -> tuple[str, str | None]:
    """The deal id and the trimmed reason."""
    return require_id(id, "id"), text(reason, "reason", max_length=NOTE_LENGTH)


@strawberry.type
class CloseDealMutation:
    @strawberry.mutation
    async def close_deal(self, info: Info[Context, None], id: strawberry.ID, expected_version: int,
                         won: bool, reason: str | None = None) -> Deal:
        context = info.context
        require_role(context.principal, Action.CLOSE_DEAL)
        deal_id, why = validate(id, reason)
        actor = dataclasses.replace(context.actor(), reason=why)
        await context.db.write(WRITE, principal=context.principal, actor=actor, deal_id=deal_id,
                               expected_version=expected_version, won=won, reason=why)
        return await committed(context, actor, "CLOSED", deal_id)
