"""The user queries."""


from __future__ import annotations

import strawberry
from strawberry.types import Info

from gateway.core.errors import NotFound
from resolvers.common.context import Context
from resolvers.user.types import User


@strawberry.type
class UserQuery:
    @strawberry.field(description="The caller.")
    async def me(self, info: Info[Context, None]) -> User:
        context = info.context
        user = await context.objects.load(User, context.loaders.user_by_id, context.principal.user_id)
        if user is None:
            raise NotFound("the caller has no user record")
        return user
