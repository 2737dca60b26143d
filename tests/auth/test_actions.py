"""auth.actions against PRODUCT.md "What each role may do": every mutation, every role, owner or not."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
from graphql import build_schema

from auth.actions import Action, may_decide, permits, require, require_decision
from auth.principal import Principal
from gateway.core.errors import Forbidden
from gateway.core.roles import Role

CONTRACT = Path("/work/shared/spec/contract.graphql")
ME, SOMEONE_ELSE = "user-me", "user-other"
R = Role

# PRODUCT.md's table, written out here on its own: mutation -> (roles that may, owner/requester may too).
OWNER_AND_DESK = (frozenset({R.DEAL_DESK, R.ADMIN}), True)
SPEC: dict[str, tuple[frozenset[Role], bool]] = {
    "createDeal": (frozenset({R.SELLER, R.SALES_MANAGER, R.DEAL_DESK, R.ADMIN}), False),
    "updateDeal": OWNER_AND_DESK,
    "setDealTiers": OWNER_AND_DESK,
    "setDealIncentives": OWNER_AND_DESK,
    "submitDeal": OWNER_AND_DESK,
    "commentOnApproval": (frozenset(Role) - {R.ANALYST}, False),
    "withdrawDeal": OWNER_AND_DESK,
    "closeDeal": OWNER_AND_DESK,
    "createScopingRequest": (frozenset({R.SELLER, R.SALES_MANAGER, R.DEAL_DESK, R.ADMIN}), False),
    "setScopingStatus": (frozenset({R.DEAL_DESK, R.ADMIN}), False),
    "convertScopingRequest": OWNER_AND_DESK,
    "createAdvertiser": (frozenset(Role) - {R.ANALYST, R.LEGAL}, False),
    "createAgency": (frozenset(Role) - {R.ANALYST, R.LEGAL}, False),
}
CALLERS: list[Role | None] = [*Role, None]


def caller(*roles: Role, region: str | None = "NA", user_id: str = ME) -> Principal:
    """A principal holding `roles`."""
    return Principal(user_id=user_id, sub=f"sub|{user_id}", email=f"{user_id}@x.test", name=user_id,
                     roles=frozenset(roles), region=region)


def expected(action: str, role: Role | None, is_owner: bool) -> bool:
    """PRODUCT.md's answer: a listed role, or the owner holding any role but ANALYST; no role: never."""
    roles, owner_may = SPEC[action]
    if role is None:
        return False
    return role in roles or (owner_may and is_owner and role is not R.ANALYST)


def table_cases() -> list[Any]:
    cases = []
    for action, role in itertools.product(SPEC, CALLERS):
        for is_owner in ((True, False) if SPEC[action][1] else (False,)):
            who = role.value if role else "no-role"
            cases.append(pytest.param(action, role, is_owner,
                                      id=f"{action}-{who}{'-owner' if is_owner else ''}"))
    return cases


@pytest.mark.parametrize("action, role, is_owner", table_cases())
def test_every_mutation_for_every_role(action: str, role: Role | None, is_owner: bool) -> None:
    principal = caller(*([role] if role else []))
    owner_id = (ME if is_owner else SOMEONE_ELSE) if SPEC[action][1] else None
    allowed = expected(action, role, is_owner)

    assert permits(principal, Action(action), owner_id=owner_id) is allowed
    assert permits(principal, action, owner_id=owner_id) is allowed  # plain names work too
    if allowed:
        require(principal, action, owner_id=owner_id)
    else:
        with pytest.raises(Forbidden) as refused:
            require(principal, action, owner_id=owner_id)
        assert refused.value.extensions == {"code": "FORBIDDEN"}


def test_the_table_names_exactly_the_contracts_mutations() -> None:
    mutation = build_schema(CONTRACT.read_text()).mutation_type
    assert mutation is not None
    assert {a.value for a in Action} == set(mutation.fields)
    assert set(SPEC) | {"decideApproval"} == set(mutation.fields)


def test_analyst_is_read_only_everywhere() -> None:
    analyst = caller(R.ANALYST)
    for action in SPEC:
        owner_id = ME if SPEC[action][1] else None
        assert not permits(analyst, action, owner_id=owner_id), action


def test_another_role_still_grants_what_it_grants_beside_analyst() -> None:
    both = caller(R.ANALYST, R.SELLER)
    assert permits(both, "createDeal") and permits(both, "updateDeal", owner_id=ME)
    assert not permits(both, "updateDeal", owner_id=SOMEONE_ELSE)


def test_no_role_owner_is_refused_everywhere() -> None:
    nobody = caller()
    for action in SPEC:
        assert not permits(nobody, action, owner_id=ME if SPEC[action][1] else None), action


def test_owner_rules_need_the_owner_id() -> None:
    with pytest.raises(ValueError, match="owner_id"):
        permits(caller(R.SELLER), "updateDeal")


def test_decide_is_not_a_table_rule() -> None:
    with pytest.raises(ValueError, match="require_decision"):
        require(caller(R.ADMIN), "decideApproval")


def test_unknown_action_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        permits(caller(R.ADMIN), "dropDatabase")


# --- decideApproval ----------------------------------------------------------------------------

STAGES = ("SALES_MANAGER", "DEAL_DESK", "FINANCE", "LEGAL", "EXECUTIVE")


def decide_cases() -> list[Any]:
    cases = []
    for stage, role in itertools.product(STAGES, CALLERS):
        for is_owner, same_region in itertools.product((False, True), (True, False)):
            who = role.value if role else "no-role"
            flags = f"{'-owner' if is_owner else ''}{'' if same_region else '-other-region'}"
            cases.append(pytest.param(stage, role, is_owner, same_region, id=f"{stage}-{who}{flags}"))
    return cases


@pytest.mark.parametrize("stage, role, is_owner, same_region", decide_cases())
def test_decide_for_every_stage_and_role(
    stage: str, role: Role | None, is_owner: bool, same_region: bool,
) -> None:
    principal = caller(*([role] if role else []), region="NA")
    deal = {"deal_owner_id": ME if is_owner else SOMEONE_ELSE, "deal_region": "NA" if same_region else "EMEA"}
    allowed = (role is not None and role.value == stage and not is_owner
               and (same_region or stage != "SALES_MANAGER"))

    assert may_decide(principal, stage=stage, **deal) is allowed
    if allowed:
        require_decision(principal, stage=stage, **deal)
    else:
        with pytest.raises(Forbidden) as refused:
            require_decision(principal, stage=stage, **deal)
        assert refused.value.extensions["code"] == "FORBIDDEN"


def test_the_owner_never_decides_whatever_roles_they_hold() -> None:
    everything = caller(*Role, region="NA")
    for stage in STAGES:
        assert not may_decide(everything, stage=stage, deal_owner_id=ME, deal_region="NA"), stage
        assert may_decide(everything, stage=stage, deal_owner_id=SOMEONE_ELSE, deal_region="NA"), stage


def test_sales_manager_without_a_region_decides_no_sales_manager_stage() -> None:
    manager = caller(R.SALES_MANAGER, region=None)
    assert not may_decide(manager, stage="SALES_MANAGER", deal_owner_id=SOMEONE_ELSE, deal_region="NA")


def test_admin_decides_nothing() -> None:
    admin = caller(R.ADMIN)
    assert not any(may_decide(admin, stage=s, deal_owner_id=SOMEONE_ELSE, deal_region="NA") for s in STAGES)
