"""One fixed data set seen through every role: PRODUCT.md's "Who sees what" and "Field level"."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from graphql import GraphQLNonNull, GraphQLObjectType, build_schema

from gateway.core.roles import Role
from resolvers.schema import schema
from tests.support.gateway import Gateway

CONTRACT = Path("/work/shared/spec/contract.graphql")
R = Role
MARGIN_VIEWERS = {R.SALES_MANAGER, R.DEAL_DESK, R.FINANCE, R.EXECUTIVE, R.ANALYST, R.ADMIN}
SEES_ALL = {R.DEAL_DESK, R.FINANCE, R.LEGAL, R.EXECUTIVE, R.ANALYST, R.ADMIN}
CALLERS: list[Role | None] = [*Role, None]


@dataclass(frozen=True)
class World:
    """Ids of the fixed data set."""

    seller_na: str
    seller_emea: str
    manager_na: str
    na_pending: str
    na_approved: str
    emea_pending: str
    manager_own_emea: str
    scoping_na: str
    scoping_emea: str

    @property
    def all_deals(self) -> set[str]:
        return {self.na_pending, self.na_approved, self.emea_pending, self.manager_own_emea}


def build_world(gateway: Gateway) -> World:
    """Two sellers (NA, EMEA), an NA manager owning a deal placed in EMEA; tiers, incentives, approvals."""
    data = gateway.data
    seller_na = data.user("seller.na@x.test", "SELLER", region="NA")
    seller_emea = data.user("seller.emea@x.test", "SELLER", region="EMEA")
    manager_na = data.user("manager.na@x.test", "SALES_MANAGER", region="NA")
    desk = data.user("desk@x.test", "DEAL_DESK", region="NA")
    advertiser, agency = data.advertiser("Acme"), data.agency("Mediahaus")

    def deal(owner: str, value: str, status: str, **values: Any) -> str:
        made = data.deal(owner=owner, advertiser=advertiser, agency_id=agency, status=status,
                         total_value=Decimal(value), **values)
        data.tier(made, 1, "0", "5000", "12.5", "32")
        data.tier(made, 2, "5000", None, "11", "18")
        data.incentive(made, 1, "AGENCY_REBATE", "PERCENT", "3.5")
        return made

    # Values are powers of two so that every sum names the deals behind it.
    na_pending = deal(seller_na, "1000", "PENDING_APPROVAL")
    na_approved = deal(seller_na, "2000", "APPROVED")
    emea_pending = deal(seller_emea, "4000", "PENDING_APPROVAL")
    manager_own_emea = deal(manager_na, "8000", "DRAFT", region="EMEA")
    data.approval(na_pending, "SALES_MANAGER", 1, "PENDING", activated_at=data.tick())
    approved = data.approval(na_approved, "SALES_MANAGER", 1, "APPROVED", activated_at=data.tick(),
                             decided_by=manager_na, decided_at=data.tick())
    data.action(approved, na_approved, manager_na, "APPROVE", "fine")
    data.approval(emea_pending, "SALES_MANAGER", 1, "PENDING", activated_at=data.tick())
    data.approval(emea_pending, "DEAL_DESK", 2, "WAITING")
    data.change(na_approved, desk, "APPROVED", "PENDING_APPROVAL")
    return World(
        seller_na=seller_na, seller_emea=seller_emea, manager_na=manager_na,
        na_pending=na_pending, na_approved=na_approved, emea_pending=emea_pending,
        manager_own_emea=manager_own_emea,
        scoping_na=data.scoping(requested_by=seller_na, advertiser=advertiser),
        scoping_emea=data.scoping(requested_by=seller_emea, advertiser=advertiser),
    )


@pytest.fixture
def world(gateway: Gateway) -> World:
    return build_world(gateway)


def token_for(gateway: Gateway, role: Role | None) -> str:
    """The SELLER is the NA seller, the SALES_MANAGER the NA manager; the others are new users."""
    if role is R.SELLER:
        return gateway.token("seller.na@x.test", "SELLER", region="NA")
    if role is R.SALES_MANAGER:
        return gateway.token("manager.na@x.test", "SALES_MANAGER", region="NA")
    if role is None:
        return gateway.token("nobody@x.test")
    return gateway.token(f"{role.value.lower()}@x.test", role.value)


def visible_deals(world: World, role: Role | None) -> set[str]:
    """PRODUCT.md: own deals; region's and own; all; nothing without a role."""
    if role is R.SELLER:
        return {world.na_pending, world.na_approved}
    if role is R.SALES_MANAGER:
        return {world.na_pending, world.na_approved, world.manager_own_emea}
    return world.all_deals if role in SEES_ALL else set()


def visible_scoping(world: World, role: Role | None) -> set[str]:
    """PRODUCT.md: ones they requested; their region's; all; nothing without a role."""
    if role in (R.SELLER, R.SALES_MANAGER):
        return {world.scoping_na}
    return {world.scoping_na, world.scoping_emea} if role in SEES_ALL else set()


VALUES = {"na_pending": 1000, "na_approved": 2000, "emea_pending": 4000, "manager_own_emea": 8000}


def value_of(world: World, deal_id: str) -> int:
    return next(v for name, v in VALUES.items() if getattr(world, name) == deal_id)


def region_of(world: World, deal_id: str) -> str:
    return "NA" if deal_id in (world.na_pending, world.na_approved) else "EMEA"


def owner_of(world: World, deal_id: str) -> str:
    owners = {world.na_pending: world.seller_na, world.na_approved: world.seller_na,
              world.emea_pending: world.seller_emea, world.manager_own_emea: world.manager_na}
    return owners[deal_id]


def buckets(world: World, deals: set[str], key: Any) -> dict[str, tuple[int, Decimal]]:
    """Expected pipeline buckets over `deals`."""
    out: dict[str, tuple[int, Decimal]] = {}
    for deal_id in deals:
        count, total = out.get(key(world, deal_id), (0, Decimal(0)))
        out[key(world, deal_id)] = (count + 1, total + value_of(world, deal_id))
    return out


ROWS = """{
  deals(first: 50) { totalCount edges { node { id region owner { id } } } }
  scopingRequests(first: 50) { totalCount edges { node { id requestedBy { id } } } }
  byRegion: pipeline(groupBy: REGION) { key dealCount totalValue }
  byOwner: pipeline(groupBy: OWNER) { key dealCount totalValue }
}"""


def caller_id(role: Role | None) -> str:
    return role.value if role else "no-role"


@pytest.mark.parametrize("role", CALLERS, ids=caller_id)
async def test_rows_each_role_sees(gateway: Gateway, world: World, role: Role | None) -> None:
    data = await gateway.data_of(ROWS, token=token_for(gateway, role))
    deals, requests = visible_deals(world, role), visible_scoping(world, role)

    assert {e["node"]["id"] for e in data["deals"]["edges"]} == deals
    assert data["deals"]["totalCount"] == len(deals)
    assert {e["node"]["id"] for e in data["scopingRequests"]["edges"]} == requests
    assert data["scopingRequests"]["totalCount"] == len(requests)
    for got, key in ((data["byRegion"], region_of), (data["byOwner"], owner_of)):
        served = {b["key"]: (b["dealCount"], Decimal(b["totalValue"])) for b in got}
        assert served == buckets(world, deals, key)
        assert [b["key"] for b in got] == sorted(b["key"] for b in got)


DEAL_FIELDS = """
  id name totalValue targetMarginPct floorCpm
  tiers { tierNumber cpm marginPct }
  incentives { type value }
  approvals { stage status }
"""
FIELDS = f"{{ deals(first: 50) {{ edges {{ node {{ {DEAL_FIELDS} }} }} }} }}"


def forbidden_paths(body: dict[str, Any]) -> set[tuple[Any, ...]]:
    """The paths of the response's errors, which must all be FORBIDDEN."""
    errors = body.get("errors", [])
    assert all(e["extensions"]["code"] == "FORBIDDEN" for e in errors), errors
    return {tuple(e["path"]) for e in errors}


def expected_paths(prefix: tuple[Any, ...], node: dict[str, Any], role: Role | None, owner: bool,
                   ) -> set[tuple[Any, ...]]:
    """Where PRODUCT.md's field rules put a FORBIDDEN error for one deal at `prefix`."""
    paths: set[tuple[Any, ...]] = set()
    if role not in MARGIN_VIEWERS:
        paths |= {(*prefix, "targetMarginPct"), (*prefix, "floorCpm")}
        paths |= {(*prefix, "tiers", i, "marginPct") for i in range(len(node["tiers"]))}
    if role not in MARGIN_VIEWERS and not owner:
        paths.add((*prefix, "incentives"))
    return paths


def assert_fields(node: dict[str, Any], role: Role | None, owner: bool) -> None:
    """Restricted fields are values or null by the rules; everything else is intact."""
    margins = role in MARGIN_VIEWERS
    assert node["name"] and Decimal(node["totalValue"]) > 0
    assert (node["targetMarginPct"], node["floorCpm"]) == (("35.0000", "2.5000") if margins else (None, None))
    assert [(t["tierNumber"], t["cpm"]) for t in node["tiers"]] == [(1, "12.5000"), (2, "11.0000")]
    assert [t["marginPct"] for t in node["tiers"]] == (["32.0000", "18.0000"] if margins else [None, None])
    incentives = [{"type": "AGENCY_REBATE", "value": "3.5000"}]
    assert node["incentives"] == (incentives if margins or owner else None)
    assert node["approvals"] is not None


@pytest.mark.parametrize("role", CALLERS, ids=caller_id)
async def test_restricted_fields_each_role_sees(gateway: Gateway, world: World, role: Role | None) -> None:
    body = await gateway.query(FIELDS, token=token_for(gateway, role))
    caller = (await gateway.data_of("{ me { id } }", token=token_for(gateway, role)))["me"]["id"]
    edges = body["data"]["deals"]["edges"]

    assert {e["node"]["id"] for e in edges} == visible_deals(world, role)
    expected: set[tuple[Any, ...]] = set()
    for index, edge in enumerate(edges):
        node, owner = edge["node"], owner_of(world, edge["node"]["id"]) == caller
        assert_fields(node, role, owner)
        expected |= expected_paths(("deals", "edges", index, "node"), node, role, owner)
    assert forbidden_paths(body) == expected
    assert (role in MARGIN_VIEWERS or not edges) == (expected == set())


async def test_incentives_follow_ownership_not_just_the_role(gateway: Gateway, world: World) -> None:
    """A seller who is also LEGAL sees every deal, but incentives only of their own."""
    token = gateway.token("seller.na@x.test", "SELLER", "LEGAL", region="NA")
    body = await gateway.query(FIELDS, token=token)
    edges = body["data"]["deals"]["edges"]

    assert {e["node"]["id"] for e in edges} == world.all_deals
    expected: set[tuple[Any, ...]] = set()
    for index, edge in enumerate(edges):
        owner = owner_of(world, edge["node"]["id"]) == world.seller_na
        assert_fields(edge["node"], R.LEGAL, owner)
        expected |= expected_paths(("deals", "edges", index, "node"), edge["node"], R.LEGAL, owner)
    assert forbidden_paths(body) == expected
    assert len([path for path in expected if path[-1] == "incentives"]) == 2  # the two not owned


async def test_restricted_fields_on_a_single_deal(gateway: Gateway, world: World) -> None:
    token = token_for(gateway, R.SELLER)
    body = await gateway.query(f'{{ deal(id: "{world.na_pending}") {{ {DEAL_FIELDS} }} }}', token=token)
    assert forbidden_paths(body) == {("deal", "targetMarginPct"), ("deal", "floorCpm"),
                                     ("deal", "tiers", 0, "marginPct"), ("deal", "tiers", 1, "marginPct")}
    assert_fields(body["data"]["deal"], R.SELLER, owner=True)


# --- every field the contract calls "Restricted" carries a permission class --------------------


def restricted_in_contract() -> list[tuple[str, str]]:
    """(type, field) of every contract field whose description says "Restricted"."""
    contract = build_schema(CONTRACT.read_text())
    return sorted(
        (name, field_name)
        for name, kind in contract.type_map.items() if isinstance(kind, GraphQLObjectType)
        for field_name, field in kind.fields.items() if "restricted" in (field.description or "").lower()
    )


def test_the_contract_names_the_known_restricted_fields() -> None:
    assert restricted_in_contract() == [
        ("Deal", "floorCpm"), ("Deal", "incentives"), ("Deal", "targetMarginPct"), ("DealTier", "marginPct"),
    ]


@pytest.mark.parametrize("type_name, field_name", restricted_in_contract())
def test_every_restricted_contract_field_has_a_permission_class(type_name: str, field_name: str) -> None:
    definition = schema.get_type_by_name(type_name)
    assert definition is not None, type_name
    served = {schema.config.name_converter.get_graphql_name(f): f for f in definition.fields}  # type: ignore[union-attr]
    assert field_name in served, f"{type_name}.{field_name} is not served"
    assert served[field_name].permission_classes, f"{type_name}.{field_name} has no permission class"
    graphql_type = schema._schema.get_type(type_name)
    assert isinstance(graphql_type, GraphQLObjectType)
    assert not isinstance(graphql_type.fields[field_name].type, GraphQLNonNull), "must be nullable"


# --- pricing guidance: anonymous figures for every role, similar deals under the row rules -----------

GUIDANCE = """{
  pricingGuidance(input: {dealType: PREFERRED_DEAL, channels: [DISPLAY], region: "NA", totalValue: "1500"}) {
    level sampleSize cpm { p50 } marginPct { p50 } similarDeals(first: 50) { id }
  }
}"""


def won_deals(gateway: Gateway, world: World) -> dict[str, set[str]]:
    """32 won deals of the world's segment: 10 of the NA seller, 10 of the EMEA seller (in EMEA), 12 of
    the NA manager; by owner."""
    data, advertiser = gateway.data, gateway.data.advertiser("Won Inc")
    made: dict[str, set[str]] = {}
    for owner, count in ((world.seller_na, 10), (world.seller_emea, 10), (world.manager_na, 12)):
        for number in range(count):
            deal = data.deal(owner=owner, advertiser=advertiser, status="CLOSED_WON",
                             total_value=Decimal(1000 + 100 * number))
            data.tier(deal, 1, "0", None, str(10 + number))
            made.setdefault(owner, set()).add(deal)
    return made


@pytest.mark.parametrize("role", CALLERS, ids=caller_id)
async def test_pricing_guidance_each_role_sees(gateway: Gateway, world: World, role: Role | None) -> None:
    from gateway.store import pricing_refresh

    won = won_deals(gateway, world)
    await pricing_refresh.refresh(gateway.app.state.db, refresh_s=None)

    body = await gateway.query(GUIDANCE, token=token_for(gateway, role))

    if role is None:
        assert body["data"] == {"pricingGuidance": None}
        assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
        return
    found = body["data"]["pricingGuidance"]
    # 22 won deals in NA are fewer than 30: the figures are over all 32, the same for every role (CPMs
    # 10-19 three times, 20, 21: ranks 16 and 17 are both 15).
    assert (found["level"], found["sampleSize"], found["cpm"]["p50"]) == (3, 32, "15.000000")
    if role is R.SELLER:
        similar = won[world.seller_na]
    elif role is R.SALES_MANAGER:
        similar = won[world.seller_na] | won[world.manager_na]  # the NA region's (and their own)
    else:
        similar = set().union(*won.values()) if role in SEES_ALL else set()
    assert {deal["id"] for deal in found["similarDeals"]} == similar
    if role in MARGIN_VIEWERS:
        assert found["marginPct"] == {"p50": "35.000000"} and "errors" not in body
    else:
        assert found["marginPct"] is None
        assert forbidden_paths(body) == {("pricingGuidance", "marginPct")}
