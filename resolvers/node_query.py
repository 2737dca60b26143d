"""`node(id)`: any object by its id, if the caller may see it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import strawberry
from strawberry.types import Info

from gateway.core.ids import require_id
from gateway.store import node as node_store
from resolvers.approval.types import DealApproval
from resolvers.common.context import Context
from resolvers.common.node import Node
from resolvers.deal.types import Deal
from resolvers.party.types import Advertiser, Agency
from resolvers.scoping.types import ScopingRequest
from resolvers.user.types import User


async def _approval(context: Context, key: str) -> DealApproval | None:
    record = await context.loaders.approval_by_id.load(key)
    return None if record is None else DealApproval.from_record(record, context.objects)


def _by_id(cls: Any, loader: str) -> Callable[[Context, str], Awaitable[Node | None]]:
    async def load(context: Context, key: str) -> Node | None:
        node: Node | None = await context.objects.load(cls, getattr(context.loaders, loader), key)
        return node

    return load


NODE_OF_KIND: dict[str, Callable[[Context, str], Awaitable[Node | None]]] = {
    "Deal": _by_id(Deal, "deal_by_id"),
    "DealApproval": _approval,
    "ScopingRequest": _by_id(ScopingRequest, "scoping_request_by_id"),
    "User": _by_id(User, "user_by_id"),
    "Advertiser": _by_id(Advertiser, "advertiser_by_id"),
    "Agency": _by_id(Agency, "agency_by_id"),
}


@strawberry.type
class NodeQuery:
    @strawberry.field
    async def node(self, info: Info[Context, None], id: strawberry.ID) -> Node | None:
        context, key = info.context, require_id(id, "id")
        kind = await context.db.read(node_store.kind_of, principal=context.principal, id=key)
        if kind is None:
            return None
        return await NODE_OF_KIND[kind](context, key)
