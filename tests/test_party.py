"""Advertisers and agencies: search, name order, pagination, by id, and their nested deals."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.data import Data
from tests.support.gateway import Gateway

ADVERTISERS = """
query Advertisers($search: String, $first: Int, $after: String) {
  advertisers(search: $search, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id name industry region } }
  }
}
"""
AGENCIES = """
query Agencies($search: String, $first: Int, $after: String) {
  agencies(search: $search, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id name holdingCompany region } }
  }
}
"""
ADVERTISER = "query One($id: ID!) { advertiser(id: $id) { __typename id name industry region } }"
AGENCY = "query One($id: ID!) { agency(id: $id) { __typename id name holdingCompany region } }"
ADVERTISER_DEALS = """
query AdvertiserDeals($first: Int, $dealsFirst: Int) {
  advertisers(first: $first) {
    edges { node { id name deals(first: $dealsFirst) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { id } }
    } } }
  }
}
"""
AGENCY_DEALS = """
query AgencyDeals($dealsFirst: Int) {
  agencies {
    edges { node { name deals(first: $dealsFirst) { totalCount edges { node { id } } } } }
  }
}
"""
ONE_ADVERTISER_DEALS = """
query OneAdvertiserDeals($id: ID!, $first: Int, $after: String) {
  advertiser(id: $id) {
    deals(first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage endCursor }
      edges { node { id owner { email } } }
    }
  }
}
"""
LISTS = {"advertisers": ADVERTISERS, "agencies": AGENCIES}
NAMES = ["Zenith", "acme labs", "Acme", "100% Media", "1000 Media", "Under_score", "UnderXscore", "Mid"]


def reader(gateway: Gateway, *roles: str) -> str:
    """A token of a user holding `roles` (ANALYST when none are given)."""
    roles = roles or ("ANALYST",)
    gateway.data.user("reader@x.test", *roles)
    return gateway.token("reader@x.test", *roles, region="NA")


def parties(data: Data, kind: str, names: list[str]) -> dict[str, str]:
    """An advertiser or agency per name: name -> id."""
    make = data.advertiser if kind == "advertisers" else data.agency
    return {name: make(name) for name in names}


async def listing(gateway: Gateway, kind: str, token: str, **variables: Any) -> dict[str, Any]:
    """The `advertisers` or `agencies` connection."""
    connection: dict[str, Any] = (await gateway.data_of(LISTS[kind], variables, token=token))[kind]
    return connection


async def names(gateway: Gateway, kind: str, token: str, **variables: Any) -> list[str]:
    """Names in one page of the list."""
    connection = await listing(gateway, kind, token, **variables)
    return [edge["node"]["name"] for edge in connection["edges"]]


@pytest.mark.parametrize("kind", LISTS)
async def test_list_is_in_name_order(gateway: Gateway, kind: str) -> None:
    parties(gateway.data, kind, NAMES)
    token = reader(gateway)

    connection = await listing(gateway, kind, token)

    assert [edge["node"]["name"] for edge in connection["edges"]] == sorted(NAMES)
    assert connection["totalCount"] == len(NAMES)


@pytest.mark.parametrize("kind", LISTS)
async def test_equal_names_are_ordered_by_id(gateway: Gateway, kind: str) -> None:
    ids = [parties(gateway.data, kind, ["Same"])["Same"] for _ in range(3)]
    token = reader(gateway)

    connection = await listing(gateway, kind, token, first=1)
    walked = [connection["edges"][0]["node"]["id"]]
    while connection["pageInfo"]["hasNextPage"]:
        connection = await listing(gateway, kind, token, first=1, after=connection["pageInfo"]["endCursor"])
        walked += [edge["node"]["id"] for edge in connection["edges"]]

    assert walked == sorted(ids)


@pytest.mark.parametrize("kind", LISTS)
async def test_search_is_case_insensitive_and_counts(gateway: Gateway, kind: str) -> None:
    parties(gateway.data, kind, NAMES)
    token = reader(gateway)

    found = await listing(gateway, kind, token, search="ACME")

    assert [edge["node"]["name"] for edge in found["edges"]] == ["Acme", "acme labs"]
    assert found["totalCount"] == 2
    assert await names(gateway, kind, token, search="media") == ["100% Media", "1000 Media"]
    assert await names(gateway, kind, token, search="nobody") == []


@pytest.mark.parametrize("kind", LISTS)
async def test_search_takes_wildcards_literally(gateway: Gateway, kind: str) -> None:
    parties(gateway.data, kind, NAMES)
    token = reader(gateway)

    assert await names(gateway, kind, token, search="100%") == ["100% Media"]
    assert await names(gateway, kind, token, search="%") == ["100% Media"]
    assert await names(gateway, kind, token, search="r_s") == ["Under_score"]
    assert await names(gateway, kind, token, search="_") == ["Under_score"]


@pytest.mark.parametrize("kind", LISTS)
async def test_search_folds_the_case_of_non_ascii_letters(gateway: Gateway, kind: str) -> None:
    parties(gateway.data, kind, ["Société Générale", "Ögilvy", "Acme"])
    token = reader(gateway)

    assert await names(gateway, kind, token, search="SOCIÉTÉ") == ["Société Générale"]
    assert await names(gateway, kind, token, search="ögil") == ["Ögilvy"]


@pytest.mark.parametrize("kind", LISTS)
async def test_walking_pages_of_a_search(gateway: Gateway, kind: str) -> None:
    parties(gateway.data, kind, [*NAMES, "Acme West", "Acme East"])
    token = reader(gateway)

    page_one = await listing(gateway, kind, token, search="acme", first=2)
    page_two = await listing(gateway, kind, token, search="acme", first=2,
                             after=page_one["pageInfo"]["endCursor"])

    assert [e["node"]["name"] for e in page_one["edges"]] == ["Acme", "Acme East"]
    assert page_one["pageInfo"]["hasNextPage"] is True and page_one["pageInfo"]["hasPreviousPage"] is False
    assert [e["node"]["name"] for e in page_two["edges"]] == ["Acme West", "acme labs"]
    assert page_two["pageInfo"]["hasNextPage"] is False and page_two["pageInfo"]["hasPreviousPage"] is True
    assert page_two["pageInfo"]["startCursor"] == page_two["edges"][0]["cursor"]
    assert page_one["totalCount"] == page_two["totalCount"] == 4


@pytest.mark.parametrize("kind", LISTS)
async def test_bad_page_arguments_are_bad_user_input(gateway: Gateway, kind: str) -> None:
    other = "agencies" if kind == "advertisers" else "advertisers"
    parties(gateway.data, kind, NAMES)
    parties(gateway.data, other, NAMES)
    token = reader(gateway)
    foreign = (await listing(gateway, other, token, first=1))["pageInfo"]["endCursor"]

    for variables, field in (({"first": 501}, "first"), ({"first": -1}, "first"),
                             ({"after": "junk"}, "after"), ({"after": foreign}, "after")):
        body = await gateway.query(LISTS[kind], variables, token=token)
        assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": field}


async def test_advertiser_and_agency_by_id(gateway: Gateway) -> None:
    advertiser = gateway.data.advertiser("Acme", industry="Retail", region="NA")
    agency = gateway.data.agency("Mediahaus", holding_company="WPP", region="EMEA")
    token = reader(gateway, "SELLER")

    found = await gateway.data_of(ADVERTISER, {"id": advertiser}, token=token)
    assert found["advertiser"] == {"__typename": "Advertiser", "id": advertiser, "name": "Acme",
                                   "industry": "Retail", "region": "NA"}
    found = await gateway.data_of(AGENCY, {"id": agency}, token=token)
    assert found["agency"] == {"__typename": "Agency", "id": agency, "name": "Mediahaus",
                               "holdingCompany": "WPP", "region": "EMEA"}
    assert await gateway.data_of(ADVERTISER, {"id": agency}, token=token) == {"advertiser": None}
    upper = await gateway.data_of(ADVERTISER, {"id": advertiser.upper()}, token=token)
    assert upper["advertiser"]["id"] == advertiser
    assert await gateway.data_of(AGENCY, {"id": advertiser}, token=token) == {"agency": None}


@pytest.mark.parametrize("document", [ADVERTISER, AGENCY], ids=["advertiser", "agency"])
async def test_malformed_party_id_is_bad_user_input(gateway: Gateway, document: str) -> None:
    token = reader(gateway)
    body = await gateway.query(document, {"id": "acme"}, token=token)
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "id"}


async def test_a_caller_without_a_role_sees_no_advertisers(gateway: Gateway) -> None:
    advertiser = gateway.data.advertiser("Acme")
    gateway.data.user("nobody@x.test")
    token = gateway.token("nobody@x.test")

    assert (await listing(gateway, "advertisers", token))["totalCount"] == 0
    assert await gateway.data_of(ADVERTISER, {"id": advertiser}, token=token) == {"advertiser": None}


# --- nested deals ------------------------------------------------------------------------------


def cast(data: Data) -> dict[str, str]:
    """Two sellers in NA and a manager in EMEA."""
    return {
        "ann": data.user("ann@x.test", "SELLER", region="NA"),
        "bob": data.user("bob@x.test", "SELLER", region="NA"),
        "eve": data.user("eve@x.test", "SALES_MANAGER", region="EMEA"),
    }


def nested_by_name(data: dict[str, Any], kind: str = "advertisers") -> dict[str, dict[str, Any]]:
    """Each listed party's `deals` connection by its name."""
    return {edge["node"]["name"]: edge["node"]["deals"] for edge in data[kind]["edges"]}


def ids_of(connection: dict[str, Any]) -> list[str]:
    """Node ids of a connection's edges."""
    return [edge["node"]["id"] for edge in connection["edges"]]


async def test_nested_deals_page_and_count_per_advertiser(gateway: Gateway) -> None:
    c, d = cast(gateway.data), gateway.data
    acme, globex, initech = d.advertiser("Acme"), d.advertiser("Globex"), d.advertiser("Initech")
    acme_deals = [d.deal(owner=c["ann"], advertiser=acme) for _ in range(3)][::-1]  # newest first
    globex_deal = d.deal(owner=c["bob"], advertiser=globex)
    acme_deals.insert(0, d.deal(owner=c["bob"], advertiser=acme))
    token = reader(gateway)
    assert initech

    data = await gateway.data_of(ADVERTISER_DEALS, {"dealsFirst": 2}, token=token)

    nested = nested_by_name(data)
    assert ids_of(nested["Acme"]) == acme_deals[:2]
    assert nested["Acme"]["totalCount"] == 4 and nested["Acme"]["pageInfo"]["hasNextPage"] is True
    assert ids_of(nested["Globex"]) == [globex_deal]
    assert nested["Globex"]["totalCount"] == 1 and nested["Globex"]["pageInfo"]["hasNextPage"] is False
    assert nested["Initech"] == {"totalCount": 0, "pageInfo": {"hasNextPage": False, "endCursor": None},
                                 "edges": []}


async def test_nested_deals_page_on_with_their_cursor(gateway: Gateway) -> None:
    c, d = cast(gateway.data), gateway.data
    acme, globex = d.advertiser("Acme"), d.advertiser("Globex")
    mine = [d.deal(owner=c["ann"], advertiser=acme) for _ in range(5)][::-1]
    d.deal(owner=c["ann"], advertiser=globex)
    token = reader(gateway)

    seen, after = [], None
    while True:
        data = await gateway.data_of(ONE_ADVERTISER_DEALS, {"id": acme, "first": 2, "after": after},
                                     token=token)
        connection = data["advertiser"]["deals"]
        assert connection["totalCount"] == 5
        assert connection["pageInfo"]["hasPreviousPage"] is (after is not None)
        seen += ids_of(connection)
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]

    assert seen == mine


async def test_nested_deals_reject_bad_page_arguments(gateway: Gateway) -> None:
    acme = gateway.data.advertiser("Acme")
    token = reader(gateway)

    for variables, field in (({"first": 501}, "first"), ({"first": -2}, "first"), ({"after": "x"}, "after")):
        body = await gateway.query(ONE_ADVERTISER_DEALS, {"id": acme, **variables}, token=token)
        assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": field}


async def test_nested_deals_apply_row_rules(gateway: Gateway) -> None:
    c, d = cast(gateway.data), gateway.data
    acme, globex = d.advertiser("Acme"), d.advertiser("Globex")
    ann_acme = d.deal(owner=c["ann"], advertiser=acme)
    d.deal(owner=c["bob"], advertiser=acme)
    bob_emea = d.deal(owner=c["bob"], advertiser=acme, region="EMEA")
    d.deal(owner=c["bob"], advertiser=globex)
    ann = gateway.token("ann@x.test", "SELLER", region="NA")
    eve = gateway.token("eve@x.test", "SALES_MANAGER", region="EMEA")

    as_ann = nested_by_name(await gateway.data_of(ADVERTISER_DEALS, {"dealsFirst": 10}, token=ann))
    as_eve = nested_by_name(await gateway.data_of(ADVERTISER_DEALS, {"dealsFirst": 10}, token=eve))

    assert (ids_of(as_ann["Acme"]), as_ann["Acme"]["totalCount"]) == ([ann_acme], 1)
    assert (ids_of(as_ann["Globex"]), as_ann["Globex"]["totalCount"]) == ([], 0)
    assert (ids_of(as_eve["Acme"]), as_eve["Acme"]["totalCount"]) == ([bob_emea], 1)
    assert (ids_of(as_eve["Globex"]), as_eve["Globex"]["totalCount"]) == ([], 0)


async def test_nested_deals_of_agencies(gateway: Gateway) -> None:
    c, d = cast(gateway.data), gateway.data
    acme = d.advertiser("Acme")
    mindshare, zenith = d.agency("Mindshare"), d.agency("Zenith")
    first = d.deal(owner=c["ann"], advertiser=acme, agency_id=mindshare)
    second = d.deal(owner=c["bob"], advertiser=acme, agency_id=mindshare)
    d.deal(owner=c["bob"], advertiser=acme)  # no agency
    ann = gateway.token("ann@x.test", "SELLER", region="NA")

    everyone = nested_by_name(await gateway.data_of(AGENCY_DEALS, {"dealsFirst": 5}, token=reader(gateway)),
                              "agencies")
    as_ann = nested_by_name(await gateway.data_of(AGENCY_DEALS, {"dealsFirst": 5}, token=ann), "agencies")

    assert (ids_of(everyone["Mindshare"]), everyone["Mindshare"]["totalCount"]) == ([second, first], 2)
    assert (ids_of(everyone["Zenith"]), everyone["Zenith"]["totalCount"]) == ([], 0)
    assert (ids_of(as_ann["Mindshare"]), as_ann["Mindshare"]["totalCount"]) == ([first], 1)
    assert zenith


async def test_nested_deals_statements_do_not_grow_with_advertisers(gateway: Gateway) -> None:
    c, d = cast(gateway.data), gateway.data
    for number in range(10):
        advertiser = d.advertiser(f"Advertiser {number:02d}")
        for _ in range(number % 4):
            d.deal(owner=c["ann" if number % 2 else "bob"], advertiser=advertiser)
    token = reader(gateway)
    await gateway.data_of("{ me { id } }", token=token)

    sent_2, data_2 = await gateway.count_statements(ADVERTISER_DEALS, {"first": 2, "dealsFirst": 2},
                                                    token=token)
    sent_10, data_10 = await gateway.count_statements(ADVERTISER_DEALS, {"first": 10, "dealsFirst": 2},
                                                      token=token)

    # the advertisers page, one page of deals for all of them, one count for all of them
    assert len(data_2["advertisers"]["edges"]) == 2 and len(data_10["advertisers"]["edges"]) == 10
    assert [n["totalCount"] for n in nested_by_name(data_10).values()] == [n % 4 for n in range(10)]
    assert sent_2 == sent_10 == 3
