"""Scoping requests: the list and by id, status filter, pagination, nested objects and row rules."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from tests.support.data import Data
from tests.support.gateway import Gateway

SCOPING_REQUESTS = """
query Requests($status: [ScopingStatus!], $first: Int, $after: String) {
  scopingRequests(status: $status, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id title status } }
  }
}
"""
NESTED = """
query Nested($first: Int) {
  scopingRequests(first: $first) {
    edges { node {
      id title requestedBy { email } advertiser { name } agency { name } convertedDeal { id name }
    } }
  }
}
"""
SCOPING_REQUEST = """
query Request($id: ID!) {
  scopingRequest(id: $id) {
    __typename id title objective status estimatedBudget currency desiredStart desiredEnd
    createdAt updatedAt
    requestedBy { id email } advertiser { id name } agency { id name } convertedDeal { id name }
  }
}
"""


def cast(data: Data) -> dict[str, str]:
    """Sellers in NA and EMEA, an NA sales manager, the desk, an advertiser and an agency."""
    return {
        "ann": data.user("ann@x.test", "SELLER", region="NA"),
        "bob": data.user("bob@x.test", "SELLER", region="NA"),
        "cat": data.user("cat@x.test", "SELLER", region="EMEA"),
        "max": data.user("max@x.test", "SALES_MANAGER", region="NA"),
        "desk": data.user("desk@x.test", "DEAL_DESK", region="NA"),
        "acme": data.advertiser("Acme"),
        "zenith": data.agency("Zenith"),
    }


TOKENS = {"ann": ("SELLER", "NA"), "bob": ("SELLER", "NA"), "cat": ("SELLER", "EMEA"),
          "max": ("SALES_MANAGER", "NA"), "desk": ("DEAL_DESK", "NA"), "ana": ("ANALYST", None)}


def token(gateway: Gateway, who: str) -> str:
    """A token of one of the cast."""
    role, region = TOKENS[who]
    return gateway.token(f"{who}@x.test", role, region=region)


def requests(data: Data, c: dict[str, str]) -> dict[str, str]:
    """One request per (title, requester, status); created a minute apart in this order."""
    made = {}
    for title, who, status in (("Ann open", "ann", "OPEN"), ("Bob review", "bob", "IN_REVIEW"),
                               ("Cat qualified", "cat", "QUALIFIED"), ("Max open", "max", "OPEN"),
                               ("Ann declined", "ann", "DECLINED")):
        made[title] = data.scoping(requested_by=c[who], advertiser=c["acme"], title=title, status=status)
    made["Max abroad"] = data.scoping(requested_by=c["max"], advertiser=c["acme"], title="Max abroad",
                                      region="EMEA")
    return made


async def listing(gateway: Gateway, who: str, **variables: Any) -> dict[str, Any]:
    """The `scopingRequests` connection as `who`."""
    data = await gateway.data_of(SCOPING_REQUESTS, variables, token=token(gateway, who))
    connection: dict[str, Any] = data["scopingRequests"]
    return connection


async def titles(gateway: Gateway, who: str, **variables: Any) -> list[str]:
    """Titles of one page, checking totalCount against a full page."""
    connection = await listing(gateway, who, **variables)
    assert connection["totalCount"] == len(connection["edges"])
    return [edge["node"]["title"] for edge in connection["edges"]]


async def test_list_is_newest_first(gateway: Gateway) -> None:
    requests(gateway.data, cast(gateway.data))
    assert await titles(gateway, "desk") == [
        "Max abroad", "Ann declined", "Max open", "Cat qualified", "Bob review", "Ann open"]


async def test_seller_sees_only_their_own_requests(gateway: Gateway) -> None:
    requests(gateway.data, cast(gateway.data))
    assert await titles(gateway, "ann") == ["Ann declined", "Ann open"]
    assert await titles(gateway, "cat") == ["Cat qualified"]


async def test_sales_manager_sees_their_regions_and_their_own(gateway: Gateway) -> None:
    requests(gateway.data, cast(gateway.data))
    assert await titles(gateway, "max") == [
        "Max abroad", "Ann declined", "Max open", "Bob review", "Ann open"]


@pytest.mark.parametrize("who", ["desk", "ana"])
async def test_desk_and_analyst_see_every_request(gateway: Gateway, who: str) -> None:
    requests(gateway.data, cast(gateway.data))
    gateway.data.user("ana@x.test", "ANALYST", region=None)
    assert len(await titles(gateway, who)) == 6


async def test_a_caller_without_a_role_sees_no_request(gateway: Gateway) -> None:
    made = requests(gateway.data, cast(gateway.data))
    gateway.data.user("nobody@x.test")
    nobody = gateway.token("nobody@x.test")

    data = await gateway.data_of(SCOPING_REQUESTS, token=nobody)
    assert data["scopingRequests"]["totalCount"] == 0 and data["scopingRequests"]["edges"] == []
    assert await gateway.data_of(SCOPING_REQUEST, {"id": made["Ann open"]}, token=nobody) == {
        "scopingRequest": None}


async def test_status_filter(gateway: Gateway) -> None:
    requests(gateway.data, cast(gateway.data))
    assert await titles(gateway, "desk", status=["OPEN"]) == ["Max abroad", "Max open", "Ann open"]
    qualified_or_declined = ["QUALIFIED", "DECLINED"]
    assert await titles(gateway, "desk", status=qualified_or_declined) == ["Ann declined", "Cat qualified"]
    assert await titles(gateway, "desk", status=["CONVERTED"]) == []
    assert await titles(gateway, "ann", status=["OPEN"]) == ["Ann open"]


async def test_walking_pages(gateway: Gateway) -> None:
    made = requests(gateway.data, cast(gateway.data))
    newest_first = list(made.values())[::-1]

    seen, after = [], None
    while True:
        page = await listing(gateway, "desk", first=2, after=after)
        info = page["pageInfo"]
        assert page["totalCount"] == 6 and len(page["edges"]) == 2
        assert info["hasPreviousPage"] is (after is not None)
        assert (info["startCursor"], info["endCursor"]) == (page["edges"][0]["cursor"],
                                                            page["edges"][-1]["cursor"])
        seen += [edge["node"]["id"] for edge in page["edges"]]
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]

    assert seen == newest_first


async def test_pages_of_a_status_filter_count_the_filtered_requests(gateway: Gateway) -> None:
    requests(gateway.data, cast(gateway.data))

    page_one = await listing(gateway, "desk", status=["OPEN"], first=2)
    after = page_one["pageInfo"]["endCursor"]
    page_two = await listing(gateway, "desk", status=["OPEN"], first=2, after=after)

    assert [e["node"]["title"] for e in page_one["edges"]] == ["Max abroad", "Max open"]
    assert [e["node"]["title"] for e in page_two["edges"]] == ["Ann open"]
    assert page_one["totalCount"] == page_two["totalCount"] == 3
    assert page_two["pageInfo"]["hasNextPage"] is False


async def test_bad_page_arguments_are_bad_user_input(gateway: Gateway) -> None:
    c = cast(gateway.data)
    gateway.data.deal(owner=c["ann"], advertiser=c["acme"])
    desk = token(gateway, "desk")
    deals = await gateway.data_of("{ deals(first: 1) { pageInfo { endCursor } } }", token=desk)
    deal_cursor = deals["deals"]["pageInfo"]["endCursor"]
    for variables, field in (({"first": 501}, "first"), ({"first": -1}, "first"), ({"after": "@@"}, "after"),
                             ({"after": deal_cursor}, "after")):
        body = await gateway.query(SCOPING_REQUESTS, variables, token=desk)
        assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": field}


async def test_request_by_id_with_every_field(gateway: Gateway) -> None:
    c = cast(gateway.data)
    deal = gateway.data.deal(owner=c["ann"], advertiser=c["acme"], name="Converted")
    request = gateway.data.scoping(
        requested_by=c["ann"], advertiser=c["acme"], agency_id=c["zenith"], title="Q4 video",
        objective="Reach", status="CONVERTED", estimated_budget=Decimal("125000.5"), currency="EUR",
        desired_start=dt.date(2026, 10, 1), desired_end=dt.date(2026, 12, 31), converted_deal_id=deal,
    )

    found = (await gateway.data_of(SCOPING_REQUEST, {"id": request}, token=token(gateway, "ann")))

    created = found["scopingRequest"].pop("createdAt")
    assert created == found["scopingRequest"].pop("updatedAt") and created.endswith("+00:00")
    assert found["scopingRequest"] == {
        "__typename": "ScopingRequest", "id": request, "title": "Q4 video", "objective": "Reach",
        "status": "CONVERTED", "estimatedBudget": "125000.50", "currency": "EUR",
        "desiredStart": "2026-10-01", "desiredEnd": "2026-12-31",
        "requestedBy": {"id": c["ann"], "email": "ann@x.test"},
        "advertiser": {"id": c["acme"], "name": "Acme"}, "agency": {"id": c["zenith"], "name": "Zenith"},
        "convertedDeal": {"id": deal, "name": "Converted"},
    }


async def test_request_by_id_follows_row_rules(gateway: Gateway) -> None:
    made = requests(gateway.data, cast(gateway.data))

    async def title(who: str, name: str) -> str | None:
        data = await gateway.data_of(SCOPING_REQUEST, {"id": made[name]}, token=token(gateway, who))
        return data["scopingRequest"] and data["scopingRequest"]["title"]

    assert await title("ann", "Ann open") == "Ann open"
    assert await title("ann", "Bob review") is None
    assert await title("max", "Bob review") == "Bob review"
    assert await title("max", "Cat qualified") is None
    assert await title("max", "Max abroad") == "Max abroad"
    assert await title("desk", "Cat qualified") == "Cat qualified"


async def test_unknown_and_malformed_request_ids(gateway: Gateway) -> None:
    cast(gateway.data)
    desk = token(gateway, "desk")
    unknown_id = "01900000-0000-7000-8000-000000000000"
    unknown = await gateway.data_of(SCOPING_REQUEST, {"id": unknown_id}, token=desk)
    assert unknown == {"scopingRequest": None}
    body = await gateway.query(SCOPING_REQUEST, {"id": "scope-1"}, token=desk)
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "id"}


async def test_nested_objects_of_the_list(gateway: Gateway) -> None:
    c, d = cast(gateway.data), gateway.data
    deal = d.deal(owner=c["bob"], advertiser=c["acme"], name="Bob deal")
    d.scoping(requested_by=c["ann"], advertiser=c["acme"], title="Plain")
    d.scoping(requested_by=c["bob"], advertiser=c["acme"], agency_id=c["zenith"], title="Converted",
              status="CONVERTED", converted_deal_id=deal)

    data = await gateway.data_of(NESTED, token=token(gateway, "desk"))

    assert [edge["node"] for edge in data["scopingRequests"]["edges"]] == [
        {"id": data["scopingRequests"]["edges"][0]["node"]["id"], "title": "Converted",
         "requestedBy": {"email": "bob@x.test"}, "advertiser": {"name": "Acme"}, "agency": {"name": "Zenith"},
         "convertedDeal": {"id": deal, "name": "Bob deal"}},
        {"id": data["scopingRequests"]["edges"][1]["node"]["id"], "title": "Plain",
         "requestedBy": {"email": "ann@x.test"}, "advertiser": {"name": "Acme"}, "agency": None,
         "convertedDeal": None},
    ]


async def test_converted_deal_follows_the_deal_row_rules(gateway: Gateway) -> None:
    c, d = cast(gateway.data), gateway.data
    abroad = d.deal(owner=c["ann"], advertiser=c["acme"], name="Booked in EMEA", region="EMEA")
    request = d.scoping(requested_by=c["ann"], advertiser=c["acme"], status="CONVERTED",
                        converted_deal_id=abroad)

    as_ann = await gateway.data_of(SCOPING_REQUEST, {"id": request}, token=token(gateway, "ann"))
    as_max = await gateway.data_of(SCOPING_REQUEST, {"id": request}, token=token(gateway, "max"))

    assert as_ann["scopingRequest"]["convertedDeal"] == {"id": abroad, "name": "Booked in EMEA"}
    assert as_max["scopingRequest"]["id"] == request and as_max["scopingRequest"]["convertedDeal"] is None


async def test_nested_list_statements_do_not_grow_with_requests(gateway: Gateway) -> None:
    c, d = cast(gateway.data), gateway.data
    for number in range(6):
        owner = c["ann" if number % 2 else "bob"]
        deal = d.deal(owner=owner, advertiser=c["acme"])
        d.scoping(requested_by=owner, advertiser=c["acme"], agency_id=c["zenith"], status="CONVERTED",
                  converted_deal_id=deal)
    desk = token(gateway, "desk")
    await gateway.data_of("{ me { id } }", token=desk)

    sent_1, _ = await gateway.count_statements(NESTED, {"first": 1}, token=desk)
    sent_6, data = await gateway.count_statements(NESTED, {"first": 6}, token=desk)

    # the page, then users, advertisers, agencies and deals one statement each; the second request
    # finds the advertiser, the agency and the first page's requester in the reference cache
    assert all(edge["node"]["convertedDeal"] for edge in data["scopingRequests"]["edges"])
    assert (sent_1, sent_6) == (5, 3)
