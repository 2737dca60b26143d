"""Who may call which mutation (PRODUCT.md, "What each role may do"): checked before anything is written.

Only the caller's roles and relation to the object are decided here. Whether the caller may see
the object at all is the row rules' business (load it through them: NOT_FOUND when hidden), and
status preconditions (DRAFT, PENDING ...) are CONFLICT errors of the workflow.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from auth.principal import Principal
from gateway.core.errors import Forbidden
from gateway.core.roles import Role


class Action(enum.StrEnum):
    """The contract's mutations, by name."""

    CREATE_DEAL = "createDeal"
    UPDATE_DEAL = "updateDeal"
    SET_DEAL_TIERS = "setDealTiers"
    SET_DEAL_INCENTIVES = "setDealIncentives"
    SUBMIT_DEAL = "submitDeal"
    DECIDE_APPROVAL = "decideApproval"
    COMMENT_ON_APPROVAL = "commentOnApproval"
    WITHDRAW_DEAL = "withdrawDeal"
    CLOSE_DEAL = "closeDeal"
    CREATE_SCOPING_REQUEST = "createScopingRequest"
    SET_SCOPING_STATUS = "setScopingStatus"
    CONVERT_SCOPING_REQUEST = "convertScopingRequest"
    CREATE_ADVERTISER = "createAdvertiser"
    CREATE_AGENCY = "createAgency"


@dataclass(frozen=True)
class Rule:
    """The roles that may act, and whether the object's owner (or requester) may act too."""

    roles: frozenset[Role]
    owner: bool = False


ALL_ROLES = frozenset(Role)
# ANALYST is read-only everywhere: it never grants a write, also not to an owner holding only it.
WRITERS = ALL_ROLES - {Role.ANALYST}
CREATORS = frozenset({Role.SELLER, Role.SALES_MANAGER, Role.DEAL_DESK, Role.ADMIN})
DESK = frozenset({Role.DEAL_DESK, Role.ADMIN})
STAGE_ROLES = {role.value: role for role in
               (Role.SALES_MANAGER, Role.DEAL_DESK, Role.FINANCE, Role.LEGAL, Role.EXECUTIVE)}

RULES: dict[Action, Rule] = {
    Action.CREATE_DEAL: Rule(CREATORS),
    Action.UPDATE_DEAL: Rule(DESK, owner=True),
    Action.SET_DEAL_TIERS: Rule(DESK, owner=True),
    Action.SET_DEAL_INCENTIVES: Rule(DESK, owner=True),
    Action.SUBMIT_DEAL: Rule(DESK, owner=True),
    Action.WITHDRAW_DEAL: Rule(DESK, owner=True),
    Action.CLOSE_DEAL: Rule(DESK, owner=True),
    Action.COMMENT_ON_APPROVAL: Rule(WRITERS),
    Action.CREATE_SCOPING_REQUEST: Rule(CREATORS),
    Action.SET_SCOPING_STATUS: Rule(DESK),
    Action.CONVERT_SCOPING_REQUEST: Rule(DESK, owner=True),
    Action.CREATE_ADVERTISER: Rule(ALL_ROLES - {Role.ANALYST, Role.LEGAL}),
    Action.CREATE_AGENCY: Rule(ALL_ROLES - {Role.ANALYST, Role.LEGAL}),
}


def permits(principal: Principal, action: Action | str, *, owner_id: str | None = None) -> bool:
    """True when the caller may perform `action`; `owner_id` is the deal's owner or the requester."""
    rule = RULES.get(Action(action))
    if rule is None:
        raise ValueError(f"{action} has no table rule; use require_decision")
    if rule.owner and owner_id is None:
        raise ValueError(f"{action} needs the owner_id of its object")
    if principal.has_any(*rule.roles):
        return True
    return rule.owner and owner_id == principal.user_id and principal.has_any(*WRITERS)


def require(principal: Principal, action: Action | str, *, owner_id: str | None = None) -> None:
    """Raise FORBIDDEN unless the caller may perform `action`."""
    if not permits(principal, action, owner_id=owner_id):
        raise Forbidden(f"You may not {action}.")


def may_decide(principal: Principal, *, stage: str, deal_owner_id: str, deal_region: str) -> bool:
    """A holder of the stage's role (SALES_MANAGER: of the deal's region), never the deal's owner."""
    role = STAGE_ROLES[stage]
    if principal.user_id == deal_owner_id or role not in principal.roles:
        return False
    return role is not Role.SALES_MANAGER or principal.region == deal_region


def require_decision(principal: Principal, *, stage: str, deal_owner_id: str, deal_region: str) -> None:
    """Raise FORBIDDEN unless the caller may decide an approval of `stage` on this deal."""
    if not may_decide(principal, stage=stage, deal_owner_id=deal_owner_id, deal_region=deal_region):
        raise Forbidden(f"You may not decide the {stage} approval of this deal.")
