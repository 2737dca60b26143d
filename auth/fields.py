"""Field-level rules of PRODUCT.md, as Strawberry permission classes (the one declarative list)."""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission
from strawberry.types import Info

from auth.principal import Principal
from gateway.core.roles import Role

MARGIN_VIEWERS = frozenset(
    {Role.SALES_MANAGER, Role.DEAL_DESK, Role.FINANCE, Role.EXECUTIVE, Role.ANALYST, Role.ADMIN}
)
INCENTIVE_VIEWERS = MARGIN_VIEWERS


def may_read(principal: Principal, kind: str, *, owner_id: str) -> bool:
    """Whether the caller may read a deal's `margins` (and floor price) or its `incentives`."""
    if kind == "margins":
        return principal.has_any(*MARGIN_VIEWERS)
    if kind == "incentives":
        return principal.has_any(*INCENTIVE_VIEWERS) or owner_id == principal.user_id
    raise ValueError(f"no field rule for {kind!r}")


def _principal(info: Info) -> Principal:
    principal: Principal = info.context.principal
    return principal


class CanSeeMargins(BasePermission):
    """Margins and floor prices: managers, deal desk, finance, executives, analysts, admins."""

    message = "Your role may not see margins."
    error_extensions = {"code": "FORBIDDEN"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return _principal(info).has_any(*MARGIN_VIEWERS)


class CanSeeIncentives(BasePermission):
    """Incentives: the deal's owner and the margin viewers."""

    message = "Your role may not see this deal's incentives."
    error_extensions = {"code": "FORBIDDEN"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        principal = _principal(info)
        return principal.has_any(*INCENTIVE_VIEWERS) or source.owner_id == principal.user_id

