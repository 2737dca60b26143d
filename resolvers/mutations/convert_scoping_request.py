"""convertScopingRequest: a QUALIFIED scoping request becomes a DRAFT deal owned by its requester."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from auth.actions import Action
from gateway.core.ids import require_id
from gateway.workflow import conversion
from gateway.workflow.notices import evented
from resolvers.common.context import Context
from resolvers.deal.types import Deal
from resolvers.mutations.deal_result import committed, require_role

WRITE = evented("CREATED", conversion.convert)  # and its DealEvent's webhook, in one transaction


def validate(id: str) -> str:
    """The scoping request's id."""
    return require_id(id, "id")


@strawberry.type
class ConvertScopingRequestMutation:
    @strawberry.mutation
    async def convert_scoping_request(self, info: Info[Context, None], id: strawberry.ID) -> Deal:
        context = info.context
        require_role(context.principal, Action.CONVERT_SCOPING_REQUEST)
        request_id = validate(id)
        actor = context.actor()
        deal_id = await context.db.write(WRITE, principal=context.principal, actor=actor,
                                         request_id=request_id)
        context.loaders.scoping_request_by_id.clear(request_id)
        return await committed(context, actor, "CREATED", deal_id)
