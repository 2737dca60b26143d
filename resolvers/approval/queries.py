"""The approval queries."""


from __future__ import annotations

import strawberry
from strawberry.types import Info

from gateway.core.ids import require_id
from gateway.store import approval as approval_store
from gateway.workflow import deal as deal_workflow
from gateway.workflow.rules_file import approval_rules
from resolvers.approval.types import ApprovalPreview, DealApproval
from resolvers.common.connection import Connection, paginate
from resolvers.common.context import Context


@strawberry.type
class ApprovalQuery:
    @strawberry.field(
        description="Approvals the caller may decide now (status PENDING, caller eligible), oldest first."
    )
    async def my_approval_queue(
        self, info: Info[Context, None], first: int | None = None, after: str | None = None
    ) -> Connection[DealApproval]:
        return await queue_page(info.context, first, after)

    @strawberry.field(description="The stages a submission of this deal would create now.")
    async def approval_chain_preview(self, info: Info[Context, None], deal_id: strawberry.ID,
                                     ) -> list[ApprovalPreview]:
        context = info.context
        planned = await context.db.read(deal_workflow.preview, principal=context.principal,
                                        deal_id=require_id(deal_id, "dealId"),
                                        rules=approval_rules(context.settings.approval_rules_file))
        return [ApprovalPreview.from_previewed(stage) for stage in planned]


async def queue_page(context: Context, first: int | None, after: str | None) -> Connection[DealApproval]:
    """One page of the approvals the caller may decide now."""
    db, principal = context.db, context.principal
    return await paginate(
        context.settings, first, after, keys=approval_store.QUEUE_KEYS, tag="queue",
        fetch=lambda page: db.read(approval_store.get_queue_page, principal=principal, page=page),
        count=lambda: db.read(approval_store.count_queue, principal=principal),
        to_nodes=lambda rows: [DealApproval.from_record(record, context.objects)
                               for record in context.loaders.prime_approvals(rows)],
    )
