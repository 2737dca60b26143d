"""User type and the `me` query."""

from __future__ import annotations

import strawberry

from gateway.store.rows import RowLike
from resolvers.common.enums import Role
from resolvers.common.node import Node


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
