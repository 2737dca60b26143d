"""Row-level rules of PRODUCT.md (auth/rules.py) as SQL conditions for the caller, added to every read."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Table, and_, false, or_, true

from auth import rules
from auth.principal import Principal
from gateway.core import tables
from gateway.core.roles import Role

STAGE_ROLES = {stage: Role(stage) for stage in tables.STAGES}


@dataclass(frozen=True)
class Caller:
    """The gateway's caller as a rules.Subject: role tests fold to TRUE/FALSE, id and region are bound."""

    principal: Principal

    def holds(self, roles: frozenset[Role]) -> ColumnElement[bool]:
        """TRUE when the caller holds one of `roles`, else FALSE."""
        return true() if self.principal.has_any(*roles) else false()

    def is_user(self, column: ColumnElement[str]) -> ColumnElement[bool]:
        """`column` = the caller's user id."""
        return column == self.principal.user_id

    def in_region(self, column: ColumnElement[str | None]) -> ColumnElement[bool]:
        """`column` = the caller's region; FALSE for a caller without one."""
        return false() if self.principal.region is None else column == self.principal.region


def visible_deals(principal: Principal, deals: Table = tables.deals) -> ColumnElement[bool]:
    """Deals the caller may see: all, their region's and their own, or their own."""
    return rules.DEALS.condition(Caller(principal), deals)


def visible_scoping_requests(
    principal: Principal, requests: Table = tables.deal_scoping_requests
) -> ColumnElement[bool]:
    """Scoping requests the caller may see, by the same rule as deals."""
    return rules.SCOPING_REQUESTS.condition(Caller(principal), requests)


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


def visible_reference(principal: Principal) -> ColumnElement[bool]:
    """Advertisers and agencies: every caller with a role."""
    return rules.REFERENCE.condition(Caller(principal), tables.advertisers)


def visible_users(principal: Principal) -> ColumnElement[bool]:
    """Users: every caller with a role; a caller with none sees only themselves."""
    return rules.USERS.condition(Caller(principal), tables.users)
