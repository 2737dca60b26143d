"""node(id): every Node type by its id, under the same row rules as the typed queries."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.data import Data
from tests.support.gateway import Gateway

NODE = """
query Node($id: ID!) {
  node(id: $id) {
    __typename id
    ... on Deal { name dealNumber dealStatus: status owner { email } advertiser { name } }
    ... on DealApproval { stage sequence approvalStatus: status deal { id name } }
    ... on ScopingRequest { title scopingStatus: status requestedBy { email } }
    ... on User { email displayName region roles active }
    ... on Advertiser { name industry }
    ... on Agency { name holdingCompany }
  }
}
"""
UNKNOWN = "01900000-0000-7000-8000-000000000000"


def world(data: Data) -> dict[str, str]:
    """One object of every Node type, owned by ann (SELLER, NA); bob is another NA seller."""
    ids = {
        "ann": data.user("ann@x.test", "SELLER", region="NA"),
        "bob": data.user("bob@x.test", "SELLER", region="NA"),
        "max": data.user("max@x.test", "SALES_MANAGER", region="EMEA"),
        "desk": data.user("desk@x.test", "DEAL_DESK", region="NA"),
        "advertiser": data.advertiser("Acme", industry="Retail"),
        "agency": data.agency("Mediahaus", holding_company="WPP"),
    }
    ids["deal"] = data.deal(owner=ids["ann"], advertiser=ids["advertiser"], name="Acme Q3",
                            deal_number="DD-2026-000042", status="PENDING_APPROVAL")
    ids["approval"] = data.approval(ids["deal"], "SALES_MANAGER", 1, "PENDING")
    ids["scoping"] = data.scoping(requested_by=ids["ann"], advertiser=ids["advertiser"], title="Q3 scope")
    return ids


ROLES = {"ann": ("SELLER", "NA"), "bob": ("SELLER", "NA"), "max": ("SALES_MANAGER", "EMEA"),
         "desk": ("DEAL_DESK", "NA")}


async def node(gateway: Gateway, who: str, id: str) -> dict[str, Any] | None:
    """`node(id)` as `who`."""
    role, region = ROLES[who]
    data = await gateway.data_of(NODE, {"id": id}, token=gateway.token(f"{who}@x.test", role, region=region))
    found: dict[str, Any] | None = data["node"]
    return found


@pytest.mark.parametrize("who", ["ann", "desk"])
async def test_each_node_type_by_id(gateway: Gateway, who: str) -> None:
    ids = world(gateway.data)

    assert await node(gateway, who, ids["deal"]) == {
        "__typename": "Deal", "id": ids["deal"], "name": "Acme Q3", "dealNumber": "DD-2026-000042",
        "dealStatus": "PENDING_APPROVAL", "owner": {"email": "ann@x.test"}, "advertiser": {"name": "Acme"},
    }
    assert await node(gateway, who, ids["approval"]) == {
        "__typename": "DealApproval", "id": ids["approval"], "stage": "SALES_MANAGER", "sequence": 1,
        "approvalStatus": "PENDING", "deal": {"id": ids["deal"], "name": "Acme Q3"},
    }
    assert await node(gateway, who, ids["scoping"]) == {
        "__typename": "ScopingRequest", "id": ids["scoping"], "title": "Q3 scope", "scopingStatus": "OPEN",
        "requestedBy": {"email": "ann@x.test"},
    }
    assert await node(gateway, who, ids["ann"]) == {
        "__typename": "User", "id": ids["ann"], "email": "ann@x.test", "displayName": "ann",
        "region": "NA", "roles": ["SELLER"], "active": True,
    }
    assert await node(gateway, who, ids["advertiser"]) == {
        "__typename": "Advertiser", "id": ids["advertiser"], "name": "Acme", "industry": "Retail"}
    assert await node(gateway, who, ids["agency"]) == {
        "__typename": "Agency", "id": ids["agency"], "name": "Mediahaus", "holdingCompany": "WPP"}


@pytest.mark.parametrize("who", ["bob", "max"])
@pytest.mark.parametrize("kind", ["deal", "approval", "scoping"])
async def test_objects_the_caller_may_not_see_are_null(gateway: Gateway, kind: str, who: str) -> None:
    ids = world(gateway.data)
    assert await node(gateway, who, ids[kind]) is None


@pytest.mark.parametrize("kind", ["advertiser", "agency", "desk"])
async def test_reference_data_and_users_are_visible_to_every_role(gateway: Gateway, kind: str) -> None:
    ids = world(gateway.data)
    found = await node(gateway, "bob", ids[kind])
    assert found is not None and found["id"] == ids[kind]


async def test_a_caller_without_a_role_sees_only_themselves(gateway: Gateway) -> None:
    ids = world(gateway.data)
    me = gateway.data.user("nobody@x.test")
    nobody = gateway.token("nobody@x.test")

    for kind in ("deal", "approval", "scoping", "ann", "advertiser", "agency"):
        assert await gateway.data_of(NODE, {"id": ids[kind]}, token=nobody) == {"node": None}
    found = await gateway.data_of(NODE, {"id": me}, token=nobody)
    assert found["node"]["__typename"] == "User" and found["node"]["email"] == "nobody@x.test"


@pytest.mark.parametrize("kind", ["deal", "approval", "scoping", "ann", "advertiser", "agency"])
async def test_an_id_in_upper_case_finds_the_same_object(gateway: Gateway, kind: str) -> None:
    ids = world(gateway.data)
    found = await node(gateway, "desk", ids[kind].upper())
    assert found is not None and found["id"] == ids[kind]


async def test_unknown_id_is_null(gateway: Gateway) -> None:
    world(gateway.data)
    assert await node(gateway, "desk", UNKNOWN) is None


@pytest.mark.parametrize("bad", ["not-an-id", "", "42", UNKNOWN + "0"])
async def test_malformed_id_is_bad_user_input(gateway: Gateway, bad: str) -> None:
    world(gateway.data)
    body = await gateway.query(NODE, {"id": bad}, token=gateway.token("desk@x.test", "DEAL_DESK"))
    assert body["data"] == {"node": None}
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "id"}
