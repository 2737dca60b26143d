"""commentOnApproval: anyone who can see the deal, except ANALYST, comments on one of its approvals."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from auth.actions import Action, require
from gateway.core.ids import require_id
from gateway.events.broker import Event
from gateway.workflow import approval as workflow
from gateway.workflow.notices import evented
from resolvers.approval.types import ApprovalAction
from resolvers.common.context import Context
from resolvers.deal.validation import required_text
from resolvers.user.types import User

WRITE = evented("COMMENTED", workflow.comment)  # and its DealEvent's webhook, in one transaction


def validate(approval_id: str, comment: str) -> tuple[str, str]:
    """The approval id and the trimmed, non-blank comment."""
    return require_id(approval_id, "approvalId"), required_text(comment, "comment")


@strawberry.type
class CommentOnApprovalMutation:
    @strawberry.mutation
    async def comment_on_approval(self, info: Info[Context, None], approval_id: strawberry.ID,
                                  comment: str) -> ApprovalAction:
        context = info.context
        require(context.principal, Action.COMMENT_ON_APPROVAL)
        checked_id, checked = validate(approval_id, comment)
        actor = context.actor()
        row = await context.db.write(WRITE, principal=context.principal, actor=actor,
                                     approval_id=checked_id, text=checked)
        event = Event(kind="COMMENTED", deal_id=row["deal_id"], actor_user_id=actor.user_id, at=actor.at)
        await context.db.when_committed(context.broker.publish, event)
        context.loaders.actions_by_approval_id.clear(checked_id)
        return ApprovalAction.from_row(row, await context.objects.must_load(User, context.loaders.user_by_id,
                                                                             actor.user_id))
