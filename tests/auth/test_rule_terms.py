"""The rules of auth/rules.py rendered for the gateway's caller: role tests fold away, so a caller who
sees every row gets the constant TRUE (no per-row filter: the reference cache applies), one who sees
none FALSE."""

from __future__ import annotations

from sqlalchemy import False_, True_, select
from sqlalchemy.dialects import sqlite

from auth import rows
from auth.fields import may_read
from auth.principal import Principal
from gateway.core import tables
from gateway.core.roles import Role


def caller(*roles: Role, region: str | None = None) -> Principal:
    return Principal(user_id="u-1", sub="s", email="e@x.test", name="E", roles=frozenset(roles),
                     region=region)


def sql(condition: object) -> str:
    return str(select(tables.deals.c.id).where(condition).compile(dialect=sqlite.dialect()))  # type: ignore[arg-type]


def test_a_caller_who_sees_every_deal_gets_the_constant_true() -> None:
    assert isinstance(rows.visible_deals(caller(Role.FINANCE)), True_)
    assert isinstance(rows.visible_reference(caller(Role.SELLER)), True_)


def test_a_caller_without_a_role_sees_no_deal_and_only_themselves_among_users() -> None:
    assert isinstance(rows.visible_deals(caller()), False_)
    assert isinstance(rows.visible_reference(caller()), False_)
    assert sql(rows.visible_users(caller())).endswith("WHERE users.id = ?")


def test_a_sales_manager_sees_own_and_region_deals_and_without_a_region_only_their_own() -> None:
    assert sql(rows.visible_deals(caller(Role.SALES_MANAGER, region="EMEA"))).endswith(
        "WHERE deals.owner_id = ? OR deals.region = ?")
    assert sql(rows.visible_deals(caller(Role.SALES_MANAGER))).endswith("WHERE deals.owner_id = ?")
    assert sql(rows.visible_deals(caller(Role.SELLER, region="EMEA"))).endswith("WHERE deals.owner_id = ?")


def test_field_rules_read_the_same_terms() -> None:
    assert may_read(caller(Role.SALES_MANAGER), "margins", owner_id="other")
    assert not may_read(caller(Role.SELLER), "margins", owner_id="u-1")
    assert may_read(caller(Role.SELLER), "incentives", owner_id="u-1")
    assert not may_read(caller(Role.LEGAL), "incentives", owner_id="other")
