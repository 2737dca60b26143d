"""Row-level rules of PRODUCT.md as SQL conditions; the store adds them to every read."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Table, and_, false, or_, true

from auth.principal import Principal
from gateway.core import tables
from gateway.core.roles import Role

SEES_ALL = (Role.DEAL_DESK, Role.FINANCE, Role.LEGAL, Role.EXECUTIVE, Role.ANALYST, Role.ADMIN)
STAGE_ROLES = {stage: Role(stage) for stage in tables.STAGES}


def visible_deals(principal: Principal, deals: Table = tables.deals) -> ColumnElement[bool]:
    """Deals the caller may see: all, their region's and their own, or their own."""
    return _owned_or_regional(principal, deals.c.owner_id, deals.c.region)


def visible_scoping_requests(
    principal: Principal, requests: Table = tables.deal_scoping_requests
) -> ColumnElement[bool]:
    """Scoping requests the caller may see, by the same rule as deals."""
    return _owned_or_regional(principal, requests.c.requested_by, requests.c.region)


def decidable_approvals(principal: Principal) -> ColumnElement[bool]:
    """PENDING approvals the caller may decide: a stage role they hold, never on their own deal."""
    approvals, deals = tables.deal_approvals, tables.deals
    stages = [stage for stage, role in STAGE_ROLES.items() if role in principal.roles]
    by_stage = [_stage_condition(principal, stage) for stage in stages]
    return and_(
        approvals.c.status == "PENDING",
        deals.c.owner_id != principal.user_id,
        or_(false(), *by_stage),
    )


def _stage_condition(principal: Principal, stage: str) -> ColumnElement[bool]:
    approvals, deals = tables.deal_approvals, tables.deals
    if stage != "SALES_MANAGER":
        return approvals.c.stage == stage
    if principal.region is None:
        return false()
    return and_(approvals.c.stage == stage, deals.c.region == principal.region)


def _owned_or_regional(
    principal: Principal, owner: ColumnElement[str], region: ColumnElement[str | None]
) -> ColumnElement[bool]:
    if principal.has_any(*SEES_ALL):
        return true()
    conditions: list[ColumnElement[bool]] = []
    if principal.has_any(Role.SELLER, Role.SALES_MANAGER):
        conditions.append(owner == principal.user_id)
    if Role.SALES_MANAGER in principal.roles and principal.region is not None:
        conditions.append(region == principal.region)
    return or_(false(), *conditions)


def visible_reference(principal: Principal) -> ColumnElement[bool]:
    """Advertisers and agencies: every caller with a role."""
    return true() if principal.roles else false()


def visible_users(principal: Principal) -> ColumnElement[bool]:
    """Users: every caller with a role; a caller with none sees only themselves."""
    return true() if principal.roles else tables.users.c.id == principal.user_id
