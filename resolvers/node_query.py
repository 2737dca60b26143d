"""`node(id)`: any object by its id, if the caller may see it."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.ids import require_id
from gateway.store import node as node_store
from resolvers.node import Node

LOADER_OF_KIND = {
    "Deal": "deal_by_id",
    "DealApproval": "approval_by_id",
    "ScopingRequest": "scoping_request_by_id",
    "User": "user_by_id",
    "Advertiser": "advertiser_by_id",
    "Agency": "agency_by_id",
}


@strawberry.type
class NodeQuery:
    @strawberry.field
    async def node(self, info: Info[Context, None], id: strawberry.ID) -> Node | None:
        context, key = info.context, require_id(id, "id")
        kind = await context.db.read(node_store.kind_of, principal=context.principal, id=key)
        if kind is None:
            return None
        loader: Any = getattr(context.loaders, LOADER_OF_KIND[kind])
        node: Node | None = await loader.load(key)
        return node
