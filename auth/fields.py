"""Field-level rules of PRODUCT.md, as Strawberry permission classes (the one declarative list)."""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission
from strawberry.types import Info

from auth.principal import Principal
from auth.rules import FIELD_RULES, INCENTIVES, MARGINS, FieldRule


def may_read(principal: Principal, kind: str, *, owner_id: str) -> bool:
    """Whether the caller may read a deal's `margins` (and floor price) or its `incentives`."""
    if kind not in FIELD_RULES:
        raise ValueError(f"no field rule for {kind!r}")
    return FIELD_RULES[kind].allows(principal.roles, principal.user_id, owner_id=owner_id)


def _principal(info: Info) -> Principal:
    principal: Principal = info.context.principal
    return principal


class CanSeeMargins(BasePermission):
    """Margins and floor prices: managers, deal desk, finance, executives, analysts, admins."""

    message = "Your role may not see margins."
    error_extensions = {"code": "FORBIDDEN"}
    rule: FieldRule = MARGINS

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        principal = _principal(info)  # a tier has no owner: the rule does not ask for one
        return self.rule.allows(principal.roles, principal.user_id, owner_id=None)


class CanSeeIncentives(BasePermission):
    """Incentives: the deal's owner and the margin viewers."""

    message = "Your role may not see this deal's incentives."
    error_extensions = {"code": "FORBIDDEN"}
    rule: FieldRule = INCENTIVES

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        principal = _principal(info)
        return self.rule.allows(principal.roles, principal.user_id, owner_id=source.owner_id)

