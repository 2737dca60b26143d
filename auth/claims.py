"""Verified token claims -> Claims, with groups mapped to roles."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from auth.errors import AuthenticationError
from auth.principal import Claims
from gateway.core.roles import Role
from gateway.core.settings import Settings


def to_claims(payload: Mapping[str, Any], settings: Settings) -> Claims:
    """Map a verified JWT payload to Claims; unknown groups are ignored."""
    sub = payload.get("sub")
    if not isinstance(sub, str) or not sub:
        raise AuthenticationError("token has no subject")
    email = _text(payload.get("email")) or _text(payload.get("preferred_username")) or sub
    return Claims(
        sub=sub,
        email=email,
        name=_text(payload.get("name")) or email,
        roles=roles_of(payload.get(settings.auth_groups_claim), settings.auth_role_map),
        region=_text(payload.get(settings.auth_region_claim)),
        expires_at=payload.get("exp") if isinstance(payload.get("exp"), int) else None,
    )


def roles_of(groups: object, role_map: Mapping[str, str]) -> frozenset[Role]:
    """The roles that `groups` map to."""
    if isinstance(groups, str):
        groups = [groups]
    if not isinstance(groups, list):
        return frozenset()
    return frozenset(Role(role_map[g]) for g in groups if isinstance(g, str) and g in role_map)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
