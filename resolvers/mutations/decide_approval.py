"""decideApproval: the holder of the PENDING stage's role approves, rejects or asks for changes."""

from __future__ import annotations

import dataclasses

import strawberry
from strawberry.types import Info

from auth.actions import STAGE_ROLES
from auth.principal import Principal
from gateway.core.errors import Forbidden
from gateway.core.ids import require_id
from gateway.workflow import approval as workflow
from gateway.workflow.notices import evented
from resolvers.common.context import Context
from resolvers.common.enums import ApprovalDecision
from resolvers.common.validation import NOTE_LENGTH, text
from resolvers.deal.types import Deal
from resolvers.mutations.deal_result import committed

WRITE = evented("APPROVAL_DECIDED", workflow.decide)  # and its DealEvent's webhook, in one transaction


def validate(approval_id: str, comment: str | None) -> tuple[str, str | None]:
    """The approval id and the trimmed comment."""
    return require_id(approval_id, "approvalId"), text(comment, "comment", max_length=NOTE_LENGTH)


def require_approver(principal: Principal) -> None:
    """FORBIDDEN unless the caller holds some stage's role (the stage itself is checked on the row)."""
    if not principal.has_any(*STAGE_ROLES.values()):
        raise Forbidden("You may not decide approvals.")


@strawberry.type
class DecideApprovalMutation:
    @strawberry.mutation
    async def decide_approval(self, info: Info[Context, None], approval_id: strawberry.ID,
                              decision: ApprovalDecision, comment: str | None = None) -> Deal:
        context = info.context
        require_approver(context.principal)
        checked_id, why = validate(approval_id, comment)
        actor = dataclasses.replace(context.actor(), reason=why)
        deal_id = await context.db.write(WRITE, principal=context.principal, actor=actor,
                                         approval_id=checked_id, decision=decision.value, comment=why)
        return await committed(context, actor, "APPROVAL_DECIDED", deal_id)
