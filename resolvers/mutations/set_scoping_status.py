"""setScopingStatus: the deal desk moves a scoping request through review; the reason is audited."""

from __future__ import annotations

import dataclasses

import strawberry
from strawberry.types import Info

from auth.actions import Action, require
from gateway.core.ids import require_id
from gateway.store import scoping_writes
from resolvers.common.context import Context
from resolvers.common.enums import ScopingStatus
from resolvers.common.validation import NOTE_LENGTH, text
from resolvers.scoping.types import ScopingRequest


def validate(id: str, reason: str | None) -> tuple[str, str | None]:
    """The request id and the trimmed reason."""
    return require_id(id, "id"), text(reason, "reason", max_length=NOTE_LENGTH)


@strawberry.type
class SetScopingStatusMutation:
    @strawberry.mutation
    async def set_scoping_status(self, info: Info[Context, None], id: strawberry.ID,
                                 status: ScopingStatus, reason: str | None = None) -> ScopingRequest:
        context = info.context
        require(context.principal, Action.SET_SCOPING_STATUS)
        request_id, why = validate(id, reason)
        actor = dataclasses.replace(context.actor(), reason=why)
        row = await context.db.write(scoping_writes.set_status, actor=actor, principal=context.principal,
                                     request_id=request_id, status=status.value)
        return ScopingRequest.from_row(row)
