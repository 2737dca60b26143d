"""The scoping queries."""


from __future__ import annotations

import strawberry
from strawberry.types import Info

from gateway.core.ids import require_id
from gateway.store import scoping as scoping_store
from resolvers.common.connection import Connection, paginate
from resolvers.common.context import Context
from resolvers.common.enums import ScopingStatus
from resolvers.scoping.types import ScopingRequest


@strawberry.type
class ScopingQuery:
    @strawberry.field
    async def scoping_request(self, info: Info[Context, None], id: strawberry.ID) -> ScopingRequest | None:
        context = info.context
        return await context.objects.load(ScopingRequest, context.loaders.scoping_request_by_id,
                                          require_id(id, "id"))

    @strawberry.field
    async def scoping_requests(
        self, info: Info[Context, None], status: list[ScopingStatus] | None = None,
        first: int | None = None, after: str | None = None,
    ) -> Connection[ScopingRequest]:
        statuses = tuple(s.value for s in status or ())
        return await scoping_page(info.context, statuses, first, after)


async def scoping_page(
    context: Context, statuses: tuple[str, ...], first: int | None, after: str | None
) -> Connection[ScopingRequest]:
    """One page of the scoping requests the caller may see, newest first."""
    db, principal = context.db, context.principal
    return await paginate(
        context.settings, first, after, keys=scoping_store.SORT_KEYS, tag="scoping",
        fetch=lambda page: db.read(scoping_store.get_page, principal=principal, statuses=statuses,
                                   page=page),
        count=lambda: db.read(scoping_store.count, principal=principal, statuses=statuses),
        to_nodes=lambda rows: [context.objects.of(ScopingRequest, row._mapping) for row in rows],
    )
