"""The authenticated caller of one request."""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.core.roles import Role


@dataclass(frozen=True)
class Claims:
    """What a verified token says about its holder."""

    sub: str
    email: str
    name: str
    roles: frozenset[Role]
    region: str | None
    expires_at: int | None = None


@dataclass(frozen=True)
class Principal:
    """A verified caller bound to their `users` row."""

    user_id: str
    sub: str
    email: str
    name: str
    roles: frozenset[Role] = field(default_factory=frozenset)
    region: str | None = None

    def has_any(self, *roles: Role) -> bool:
        """True when the caller holds at least one of `roles`."""
        return not self.roles.isdisjoint(roles)
