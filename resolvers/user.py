"""User type and the `me` query."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.errors import NotFound
from gateway.store.rows import RowLike
from resolvers.enums import Role
from resolvers.node import Node


@strawberry.type
class User(Node):
    id: strawberry.ID
    email: str
    display_name: str
    region: str | None
    roles: list[Role]
    active: bool

    @classmethod
    def from_row(cls, row: RowLike) -> User:
        """A User from a `users` row."""
        roles = [Role(name) for name in row["roles"].split(",") if name]
        return cls(id=strawberry.ID(row["id"]), email=row["email"], display_name=row["display_name"],
                   region=row["region"], roles=roles, active=bool(row["active"]))


@strawberry.type
class UserQuery:
    @strawberry.field(description="The caller.")
    async def me(self, info: Info[Context, None]) -> User:
        context = info.context
        user = await context.objects.load(User, context.loaders.user_by_id, context.principal.user_id)
        if user is None:
            raise NotFound("the caller has no user record")
        return user
