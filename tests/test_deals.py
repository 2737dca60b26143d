"""The `deals` list: every DealFilter field, multi-key ordering and keyset pagination."""

from __future__ import annotations

import base64
import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest

from gateway.core import tables
from tests.support.data import T0, Data
from tests.support.gateway import Gateway

DEALS = """
query Deals($filter: DealFilter, $orderBy: [DealOrder!], $first: Int, $after: String) {
  deals(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id name dealNumber status region totalValue } }
  }
}
"""
DEAL_IDS = """
query DealIds($filter: DealFilter, $orderBy: [DealOrder!], $first: Int, $after: String) {
  deals(filter: $filter, orderBy: $orderBy, first: $first, after: $after) { edges { node { id } } }
}
"""
ADVERTISERS = "query { advertisers(first: 1) { pageInfo { endCursor } } }"
SORT_FIELDS = ["CREATED_AT", "UPDATED_AT", "TOTAL_VALUE", "START_DATE", "NAME"]
COLUMN_OF = {"CREATED_AT": "created_at", "UPDATED_AT": "updated_at", "TOTAL_VALUE": "total_value",
             "START_DATE": "start_date", "NAME": "name"}


def at(minutes: int) -> dt.datetime:
    """The data set's clock `minutes` after T0."""
    return T0 + dt.timedelta(minutes=minutes)


def desk(gateway: Gateway) -> str:
    """A token of a DEAL_DESK user, who sees every deal."""
    gateway.data.user("desk@x.test", "DEAL_DESK")
    return gateway.token("desk@x.test", "DEAL_DESK", region="NA")


def people(data: Data) -> dict[str, str]:
    """Two sellers in two regions, two advertisers, two agencies."""
    return {
        "ann": data.user("ann@x.test", "SELLER", region="NA"),
        "bea": data.user("bea@x.test", "SELLER", region="EMEA"),
        "acme": data.advertiser("Acme"), "globex": data.advertiser("Globex"),
        "mindshare": data.agency("Mindshare"), "zenith": data.agency("Zenith"),
    }


async def deals(gateway: Gateway, token: str, **variables: Any) -> dict[str, Any]:
    """The `deals` connection for `variables`."""
    connection: dict[str, Any] = (await gateway.data_of(DEALS, variables, token=token))["deals"]
    return connection


async def names(gateway: Gateway, token: str, filter: dict[str, Any]) -> list[str]:
    """Names of the deals matching `filter`, by name."""
    connection = await deals(gateway, token, filter=filter, orderBy=[{"field": "NAME", "direction": "ASC"}])
    assert connection["totalCount"] == len(connection["edges"])
    return [edge["node"]["name"] for edge in connection["edges"]]


async def error_of(gateway: Gateway, token: str, **variables: Any) -> dict[str, Any]:
    """The extensions of the single error of a `deals` request that must fail."""
    body = await gateway.query(DEALS, variables, token=token)
    assert body.get("data") is None and len(body["errors"]) == 1, body
    extensions: dict[str, Any] = body["errors"][0]["extensions"]
    return extensions


async def walk(gateway: Gateway, token: str, size: int = 2, **variables: Any) -> list[str]:
    """Ids of every deal, page by page, checking each page's info on the way."""
    seen: list[str] = []
    after = None
    while True:
        connection = await deals(gateway, token, first=size, after=after, **variables)
        edges, info = connection["edges"], connection["pageInfo"]
        assert 0 < len(edges) <= size
        assert info["hasPreviousPage"] is (after is not None)
        assert (info["startCursor"], info["endCursor"]) == (edges[0]["cursor"], edges[-1]["cursor"])
        seen += [edge["node"]["id"] for edge in edges]
        assert connection["totalCount"] >= len(seen)
        if not info["hasNextPage"]:
            assert connection["totalCount"] == len(seen)
            return seen
        assert len(edges) == size
        after = info["endCursor"]


def cursor(payload: Any) -> str:
    """A cursor-shaped string carrying `payload`."""
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


# --- filters -----------------------------------------------------------------------------------


async def test_filter_by_status_list(gateway: Gateway) -> None:
    p, token = people(gateway.data), desk(gateway)
    for status in ("DRAFT", "APPROVED", "REJECTED", "PENDING_APPROVAL"):
        gateway.data.deal(owner=p["ann"], advertiser=p["acme"], name=status.title(), status=status)

    assert await names(gateway, token, {"status": ["APPROVED", "REJECTED"]}) == ["Approved", "Rejected"]
    assert await names(gateway, token, {"status": ["DRAFT"]}) == ["Draft"]
    assert await names(gateway, token, {"status": ["CLOSED_WON"]}) == []


async def test_filter_by_owner_advertiser_and_agency(gateway: Gateway) -> None:
    p, token = people(gateway.data), desk(gateway)
    d = gateway.data
    d.deal(owner=p["ann"], advertiser=p["acme"], agency_id=p["mindshare"], name="A1")
    d.deal(owner=p["ann"], advertiser=p["globex"], agency_id=None, name="A2")
    d.deal(owner=p["bea"], advertiser=p["acme"], agency_id=p["zenith"], name="B1")
    d.deal(owner=p["bea"], advertiser=p["globex"], agency_id=p["mindshare"], name="B2")

    assert await names(gateway, token, {"ownerId": p["ann"]}) == ["A1", "A2"]
    assert await names(gateway, token, {"ownerId": p["bea"]}) == ["B1", "B2"]
    assert await names(gateway, token, {"advertiserId": p["acme"]}) == ["A1", "B1"]
    assert await names(gateway, token, {"agencyId": p["mindshare"]}) == ["A1", "B2"]
    assert await names(gateway, token, {"agencyId": p["zenith"]}) == ["B1"]


async def test_filter_by_region(gateway: Gateway) -> None:
    p, token = people(gateway.data), desk(gateway)
    gateway.data.deal(owner=p["ann"], advertiser=p["acme"], name="Home")  # the owner's region, NA
    gateway.data.deal(owner=p["ann"], advertiser=p["acme"], name="Abroad", region="APAC")
    gateway.data.deal(owner=p["bea"], advertiser=p["acme"], name="Emea")

    assert await names(gateway, token, {"region": "NA"}) == ["Home"]
    assert await names(gateway, token, {"region": "APAC"}) == ["Abroad"]
    assert await names(gateway, token, {"region": "EMEA"}) == ["Emea"]
    assert await names(gateway, token, {"region": "LATAM"}) == []


async def test_min_and_max_value_are_inclusive(gateway: Gateway) -> None:
    p, token = people(gateway.data), desk(gateway)
    for name, value in (("V100", "100.00"), ("V200", "200.00"), ("V300", "300.00")):
        gateway.data.deal(owner=p["ann"], advertiser=p["acme"], name=name, total_value=Decimal(value))

    assert await names(gateway, token, {"minValue": "200"}) == ["V200", "V300"]
    assert await names(gateway, token, {"maxValue": "200.00"}) == ["V100", "V200"]
    assert await names(gateway, token, {"minValue": "200", "maxValue": "300"}) == ["V200", "V300"]
    assert await names(gateway, token, {"minValue": "200", "maxValue": "200"}) == ["V200"]
    assert await names(gateway, token, {"minValue": "100.01", "maxValue": "299.99"}) == ["V200"]


async def test_value_bounds_finer_than_cents_are_not_rounded(gateway: Gateway) -> None:
    p, token = people(gateway.data), desk(gateway)
    gateway.data.deal(owner=p["ann"], advertiser=p["acme"], name="V200", total_value=Decimal("200.00"))

    assert await names(gateway, token, {"minValue": "200.001"}) == []
    assert await names(gateway, token, {"maxValue": "199.999"}) == []
    assert await names(gateway, token, {"minValue": "199.999", "maxValue": "200.001"}) == ["V200"]


async def test_created_after_and_before_are_strict_bounds(gateway: Gateway) -> None:
    p, token = people(gateway.data), desk(gateway)
    for minute in (10, 20, 30):
        gateway.data.deal(owner=p["ann"], advertiser=p["acme"], name=f"M{minute}", created_at=at(minute))

    assert await names(gateway, token, {"createdAfter": at(10).isoformat()}) == ["M20", "M30"]
    assert await names(gateway, token, {"createdBefore": at(30).isoformat()}) == ["M10", "M20"]
    window = {"createdAfter": at(15).isoformat(), "createdBefore": at(25).isoformat()}
    assert await names(gateway, token, window) == ["M20"]


async def test_created_bounds_honour_the_utc_offset(gateway: Gateway) -> None:
    p, token = people(gateway.data), desk(gateway)
    for minute in (10, 20, 30):
        gateway.data.deal(owner=p["ann"], advertiser=p["acme"], name=f"M{minute}", created_at=at(minute))
    plus_two = dt.timezone(dt.timedelta(hours=2))

    after_15 = at(15).astimezone(plus_two).isoformat()  # 02:15+02:00 is 00:15Z
    assert after_15.endswith("+02:00")
    assert await names(gateway, token, {"createdAfter": after_15}) == ["M20", "M30"]


async def test_search_is_case_insensitive_on_name_and_deal_number(gateway: Gateway) -> None:
    p, token = people(gateway.data), desk(gateway)
    gateway.data.deal(owner=p["ann"], advertiser=p["acme"], name="ACME Spring Launch",
                      deal_number="DD-2026-000101")
    gateway.data.deal(owner=p["ann"], advertiser=p["acme"], name="Globex summer",
                      deal_number="DD-2026-000202")

    assert await names(gateway, token, {"search": "spring"}) == ["ACME Spring Launch"]
    assert await names(gateway, token, {"search": "SUMMER"}) == ["Globex summer"]
    assert await names(gateway, token, {"search": "dd-2026-000202"}) == ["Globex summer"]
    assert await names(gateway, token, {"search": "000101"}) == ["ACME Spring Launch"]
    assert await names(gateway, token, {"search": "dd-2026"}) == ["ACME Spring Launch", "Globex summer"]
    assert await names(gateway, token, {"search": "nothing"}) == []


async def test_search_takes_like_wildcards_literally(gateway: Gateway) -> None:
    p, token = people(gateway.data), desk(gateway)
    for name in ("100% Video", "1000 Video", "Q3_Promo", "Q3XPromo", "Back\\slash", "Backslash"):
        gateway.data.deal(owner=p["ann"], advertiser=p["acme"], name=name)

    assert await names(gateway, token, {"search": "100%"}) == ["100% Video"]
    assert await names(gateway, token, {"search": "%"}) == ["100% Video"]
    assert await names(gateway, token, {"search": "q3_"}) == ["Q3_Promo"]
    assert await names(gateway, token, {"search": "_"}) == ["Q3_Promo"]
    assert await names(gateway, token, {"search": "k\\s"}) == ["Back\\slash"]


async def test_search_folds_the_case_of_non_ascii_letters(gateway: Gateway) -> None:
    p, token = people(gateway.data), desk(gateway)
    gateway.data.deal(owner=p["ann"], advertiser=p["acme"], name="Société Générale Été")
    gateway.data.deal(owner=p["ann"], advertiser=p["acme"], name="Ögilvy Q3")

    assert await names(gateway, token, {"search": "générale été"}) == ["Société Générale Été"]
    assert await names(gateway, token, {"search": "SOCIÉTÉ"}) == ["Société Générale Été"]
    assert await names(gateway, token, {"search": "ögilvy"}) == ["Ögilvy Q3"]


async def test_filter_ids_are_case_insensitive(gateway: Gateway) -> None:
    p, token = people(gateway.data), desk(gateway)
    gateway.data.deal(owner=p["ann"], advertiser=p["acme"], name="Ann's")
    gateway.data.deal(owner=p["bea"], advertiser=p["acme"], name="Bea's")

    assert await names(gateway, token, {"ownerId": p["ann"].upper()}) == ["Ann's"]


async def test_filters_combine_with_and(gateway: Gateway) -> None:
    p, token = people(gateway.data), desk(gateway)
    d = gateway.data
    d.deal(owner=p["ann"], advertiser=p["acme"], name="Acme big", status="APPROVED",
           total_value=Decimal("5000"))
    d.deal(owner=p["ann"], advertiser=p["acme"], name="Acme small", status="APPROVED",
           total_value=Decimal("50"))
    d.deal(owner=p["ann"], advertiser=p["acme"], name="Acme draft", status="DRAFT",
           total_value=Decimal("5000"))
    d.deal(owner=p["bea"], advertiser=p["acme"], name="Acme emea", status="APPROVED",
           total_value=Decimal("5000"))
    d.deal(owner=p["ann"], advertiser=p["globex"], name="Globex big", status="APPROVED",
           total_value=Decimal("5000"))

    combined = {"status": ["APPROVED"], "ownerId": p["ann"], "minValue": "100", "search": "acme"}
    assert await names(gateway, token, combined) == ["Acme big"]
    assert await names(gateway, token, {"advertiserId": p["acme"], "region": "EMEA"}) == ["Acme emea"]


async def test_list_applies_row_rules(gateway: Gateway) -> None:
    p = people(gateway.data)
    gateway.data.user("boss@x.test", "SALES_MANAGER", region="EMEA")
    gateway.data.deal(owner=p["ann"], advertiser=p["acme"], name="Ann NA")
    gateway.data.deal(owner=p["bea"], advertiser=p["acme"], name="Bea EMEA")
    gateway.data.deal(owner=p["ann"], advertiser=p["acme"], name="Ann EMEA", region="EMEA")
    ann = gateway.token("ann@x.test", "SELLER", region="NA")
    boss = gateway.token("boss@x.test", "SALES_MANAGER", region="EMEA")

    assert await names(gateway, ann, {}) == ["Ann EMEA", "Ann NA"]
    assert await names(gateway, boss, {}) == ["Ann EMEA", "Bea EMEA"]
    assert await names(gateway, ann, {"ownerId": p["bea"]}) == []


@pytest.mark.parametrize(
    ("filter", "field"),
    [
        ({"ownerId": "not-an-id"}, "filter.ownerId"),
        ({"advertiserId": "42"}, "filter.advertiserId"),
        ({"agencyId": "0190-x"}, "filter.agencyId"),
        ({"minValue": "300", "maxValue": "200"}, "filter.minValue"),
        ({"minValue": "NaN"}, "filter.minValue"),
        ({"minValue": "NaN", "maxValue": "5"}, "filter.minValue"),
        ({"maxValue": "Infinity"}, "filter.maxValue"),
        ({"minValue": "1e30"}, "filter.minValue"),
        ({"minValue": "1", "maxValue": "1e17"}, "filter.maxValue"),
        ({"createdAfter": "2026-01-01T00:00:00"}, "filter.createdAfter"),
        ({"createdBefore": "2026-01-01T10:00:00"}, "filter.createdBefore"),
        ({"search": "x" * 201}, "filter.search"),
        ({"createdAfter": "9999-12-31T23:00:00-05:00"}, "filter.createdAfter"),
        ({"createdBefore": "0001-01-01T00:00:00+05:00"}, "filter.createdBefore"),
    ],
)
async def test_invalid_filter_is_bad_user_input_naming_the_field(
    gateway: Gateway, filter: dict[str, Any], field: str
) -> None:
    token = desk(gateway)
    assert await error_of(gateway, token, filter=filter) == {"code": "BAD_USER_INPUT", "field": field}


async def test_order_naming_a_field_twice_is_bad_user_input(gateway: Gateway) -> None:
    token = desk(gateway)
    order = [{"field": "NAME", "direction": "ASC"}, {"field": "NAME", "direction": "DESC"}]
    assert await error_of(gateway, token, orderBy=order) == {"code": "BAD_USER_INPUT", "field": "orderBy"}


# --- ordering ----------------------------------------------------------------------------------


def sortable(data: Data, owner: str, advertiser: str) -> list[dict[str, Any]]:
    """Six deals with ties on every sort field; each as the values the orderings look at."""
    rows = [
        ("Bravo", "500.00", dt.date(2026, 3, 1), at(1), at(10)),
        ("Alpha", "200.00", dt.date(2026, 4, 1), at(2), at(10)),
        ("Bravo", "500.00", dt.date(2026, 2, 1), at(2), at(5)),
        ("Delta", "200.00", dt.date(2026, 3, 1), at(3), at(7)),
        ("Charlie", "1000.00", dt.date(2026, 1, 15), at(0), at(7)),
        ("Alpha", "75.50", dt.date(2026, 4, 1), at(4), at(4)),
    ]
    made = []
    for name, value, start, created, updated in rows:
        values = {"name": name, "total_value": Decimal(value), "start_date": start,
                  "created_at": _micro(created), "updated_at": _micro(updated)}
        made.append({"id": data.deal(owner=owner, advertiser=advertiser, **values), **values})
    return made


def _micro(moment: dt.datetime) -> dt.datetime:
    """`moment` plus a few microseconds, so cursors must carry full precision."""
    return moment + dt.timedelta(microseconds=1001 * moment.minute + 7)


def expected(rows: list[dict[str, Any]], order: list[tuple[str, bool]]) -> list[str]:
    """Ids in `order` (field, descending), ties broken by id in the last key's direction."""
    ranked = sorted(rows, key=lambda row: str(row["id"]), reverse=order[-1][1])
    for field, descending in reversed(order):
        column = COLUMN_OF[field]
        ranked = sorted(ranked, key=lambda row: row[column], reverse=descending)
    return [row["id"] for row in ranked]


def order_input(order: list[tuple[str, bool]]) -> list[dict[str, str]]:
    """The orderBy argument for (field, descending) pairs."""
    return [{"field": field, "direction": "DESC" if desc else "ASC"} for field, desc in order]


@pytest.mark.parametrize("descending", [False, True], ids=["ASC", "DESC"])
@pytest.mark.parametrize("field", SORT_FIELDS)
async def test_order_by_each_field_breaks_ties_by_id_across_pages(
    gateway: Gateway, field: str, descending: bool
) -> None:
    p, token = people(gateway.data), desk(gateway)
    rows = sortable(gateway.data, p["ann"], p["acme"])
    order = [(field, descending)]

    one_page = await gateway.data_of(DEAL_IDS, {"orderBy": order_input(order)}, token=token)

    want = expected(rows, order)
    assert [edge["node"]["id"] for edge in one_page["deals"]["edges"]] == want
    assert await walk(gateway, token, orderBy=order_input(order)) == want


@pytest.mark.parametrize(
    "order",
    [
        [("TOTAL_VALUE", True), ("NAME", False)],
        [("NAME", False), ("START_DATE", True)],
        [("UPDATED_AT", True), ("CREATED_AT", False)],
        [("START_DATE", False), ("TOTAL_VALUE", False), ("NAME", True)],
        [("NAME", True), ("UPDATED_AT", False), ("CREATED_AT", True), ("START_DATE", False),
         ("TOTAL_VALUE", True)],
    ],
    ids=lambda order: "-".join(f"{f}:{'D' if d else 'A'}" for f, d in order),
)
async def test_multi_key_order_across_pages(gateway: Gateway, order: list[tuple[str, bool]]) -> None:
    p, token = people(gateway.data), desk(gateway)
    rows = sortable(gateway.data, p["ann"], p["acme"])

    want = expected(rows, order)
    for size in (1, 2, 4):
        assert await walk(gateway, token, size, orderBy=order_input(order)) == want


async def test_order_direction_defaults_to_desc(gateway: Gateway) -> None:
    p, token = people(gateway.data), desk(gateway)
    rows = sortable(gateway.data, p["ann"], p["acme"])

    data = await gateway.data_of(DEAL_IDS, {"orderBy": [{"field": "TOTAL_VALUE"}]}, token=token)

    assert [e["node"]["id"] for e in data["deals"]["edges"]] == expected(rows, [("TOTAL_VALUE", True)])


async def test_default_order_is_newest_first(gateway: Gateway) -> None:
    p, token = people(gateway.data), desk(gateway)
    rows = sortable(gateway.data, p["ann"], p["acme"])

    assert await walk(gateway, token) == expected(rows, [("CREATED_AT", True)])


# --- pagination --------------------------------------------------------------------------------


def numbered(data: Data, owner: str, advertiser: str, count: int) -> list[str]:
    """`count` deals, each created a minute after the last; ids newest first."""
    return [data.deal(owner=owner, advertiser=advertiser, name=f"N{n:03d}") for n in range(count)][::-1]


async def test_walking_pages_gives_every_deal_once_in_order(gateway: Gateway) -> None:
    p, token = people(gateway.data), desk(gateway)
    ids = numbered(gateway.data, p["ann"], p["acme"], 7)

    first = await deals(gateway, token, first=2)
    last = await deals(gateway, token, first=2, after=(await deals(gateway, token, first=6))["pageInfo"][
        "endCursor"])

    assert await walk(gateway, token) == ids
    assert first["pageInfo"]["hasNextPage"] is True and first["pageInfo"]["hasPreviousPage"] is False
    assert [e["node"]["id"] for e in last["edges"]] == ids[6:]
    assert last["pageInfo"]["hasNextPage"] is False and last["pageInfo"]["hasPreviousPage"] is True
    assert last["pageInfo"]["startCursor"] == last["pageInfo"]["endCursor"] == last["edges"][0]["cursor"]


async def test_page_exactly_at_the_end_has_no_next_page(gateway: Gateway) -> None:
    p, token = people(gateway.data), desk(gateway)
    ids = numbered(gateway.data, p["ann"], p["acme"], 4)

    page_one = await deals(gateway, token, first=2)
    page_two = await deals(gateway, token, first=2, after=page_one["pageInfo"]["endCursor"])
    beyond = await deals(gateway, token, first=2, after=page_two["pageInfo"]["endCursor"])

    assert [e["node"]["id"] for e in page_two["edges"]] == ids[2:]
    assert page_two["pageInfo"]["hasNextPage"] is False
    assert beyond["edges"] == [] and beyond["totalCount"] == 4
    assert beyond["pageInfo"] == {"hasNextPage": False, "hasPreviousPage": True,
                                  "startCursor": None, "endCursor": None}


async def test_empty_result_page(gateway: Gateway) -> None:
    p, token = people(gateway.data), desk(gateway)
    numbered(gateway.data, p["ann"], p["acme"], 3)

    empty = await deals(gateway, token, filter={"status": ["CLOSED_LOST"]})

    assert empty == {"totalCount": 0, "edges": [], "pageInfo": {
        "hasNextPage": False, "hasPreviousPage": False, "startCursor": None, "endCursor": None}}


async def test_first_zero_gives_no_edges_but_counts_and_says_more_exist(gateway: Gateway) -> None:
    p, token = people(gateway.data), desk(gateway)
    numbered(gateway.data, p["ann"], p["acme"], 3)

    zero = await deals(gateway, token, first=0)

    assert zero["edges"] == [] and zero["totalCount"] == 3
    assert zero["pageInfo"] == {"hasNextPage": True, "hasPreviousPage": False,
                                "startCursor": None, "endCursor": None}


async def test_default_page_size_is_fifty(gateway: Gateway) -> None:
    p, token = people(gateway.data), desk(gateway)
    ids = numbered(gateway.data, p["ann"], p["acme"], 51)

    page = await deals(gateway, token)

    assert [e["node"]["id"] for e in page["edges"]] == ids[:50]
    assert page["pageInfo"]["hasNextPage"] is True and page["totalCount"] == 51


async def test_first_up_to_five_hundred_is_accepted(gateway: Gateway) -> None:
    p, token = people(gateway.data), desk(gateway)
    numbered(gateway.data, p["ann"], p["acme"], 2)

    page = await deals(gateway, token, first=500)

    assert len(page["edges"]) == 2 and page["pageInfo"]["hasNextPage"] is False


@pytest.mark.parametrize("first", [501, 10_000, -1])
async def test_first_out_of_range_is_bad_user_input(gateway: Gateway, first: int) -> None:
    token = desk(gateway)
    assert await error_of(gateway, token, first=first) == {"code": "BAD_USER_INPUT", "field": "first"}


MALFORMED_CURSORS = {
    "garbage": "not a cursor!",
    "non-ascii": "curs\u00f6r",
    "base64 of junk": base64.urlsafe_b64encode(b"hello, world").decode(),
    "base64 of binary": base64.urlsafe_b64encode(b"\xff\xfe\x00\x01").decode(),
    "json object": cursor({"tag": "deals:CREATED_AT:D"}),
    "empty list": cursor([]),
    "missing values": cursor(["deals:CREATED_AT:D"]),
    "extra values": cursor(["deals:CREATED_AT:D", "2026-01-01T00:01:00+00:00", "x", "y"]),
    "bad timestamp": cursor(["deals:CREATED_AT:D", "yesterday", "0190"]),
    "number timestamp": cursor(["deals:CREATED_AT:D", 12, "0190"]),
    "naive timestamp": cursor(["deals:CREATED_AT:D", "2026-01-01T00:01:00", "0190"]),
}


@pytest.mark.parametrize("after", MALFORMED_CURSORS.values(), ids=MALFORMED_CURSORS.keys())
async def test_malformed_cursor_is_bad_user_input(gateway: Gateway, after: str) -> None:
    p, token = people(gateway.data), desk(gateway)
    numbered(gateway.data, p["ann"], p["acme"], 2)
    assert await error_of(gateway, token, after=after) == {"code": "BAD_USER_INPUT", "field": "after"}


@pytest.mark.parametrize("value", ["lots", "NaN", "Infinity", "-Infinity", "1e999999"])
async def test_cursor_with_a_bad_decimal_is_bad_user_input(gateway: Gateway, value: str) -> None:
    p, token = people(gateway.data), desk(gateway)
    numbered(gateway.data, p["ann"], p["acme"], 2)
    order = [{"field": "TOTAL_VALUE", "direction": "ASC"}]
    forged = cursor(["deals:TOTAL_VALUE:A", value, "0190"])
    assert await error_of(gateway, token, orderBy=order, after=forged) == {
        "code": "BAD_USER_INPUT", "field": "after"}


async def test_cursor_of_another_ordering_is_bad_user_input(gateway: Gateway) -> None:
    p, token = people(gateway.data), desk(gateway)
    numbered(gateway.data, p["ann"], p["acme"], 3)
    by_name = [{"field": "NAME", "direction": "ASC"}]
    name_cursor = (await deals(gateway, token, first=1, orderBy=by_name))["pageInfo"]["endCursor"]
    default_cursor = (await deals(gateway, token, first=1))["pageInfo"]["endCursor"]
    by_name_desc = [{"field": "NAME", "direction": "DESC"}]

    for variables in (
        {"after": name_cursor},
        {"after": name_cursor, "orderBy": by_name_desc},
        {"after": default_cursor, "orderBy": by_name},
        {"after": name_cursor, "orderBy": [*by_name, {"field": "CREATED_AT", "direction": "ASC"}]},
    ):
        assert await error_of(gateway, token, **variables) == {"code": "BAD_USER_INPUT", "field": "after"}


async def test_cursor_of_another_list_is_bad_user_input(gateway: Gateway) -> None:
    p, token = people(gateway.data), desk(gateway)
    numbered(gateway.data, p["ann"], p["acme"], 2)
    other = (await gateway.data_of(ADVERTISERS, token=token))["advertisers"]["pageInfo"]["endCursor"]

    assert await error_of(gateway, token, after=other) == {"code": "BAD_USER_INPUT", "field": "after"}


async def test_cursor_of_a_deleted_deal_still_continues_after_its_position(gateway: Gateway) -> None:
    p, token = people(gateway.data), desk(gateway)
    ids = numbered(gateway.data, p["ann"], p["acme"], 5)
    page_one = await deals(gateway, token, first=2)
    gateway.data.delete(tables.deals, ids[1])

    page_two = await deals(gateway, token, first=2, after=page_one["pageInfo"]["endCursor"])

    assert [e["node"]["id"] for e in page_two["edges"]] == ids[2:4]
    assert page_two["totalCount"] == 4


async def test_rows_inserted_while_paging_by_name(gateway: Gateway) -> None:
    p, token = people(gateway.data), desk(gateway)
    d = gateway.data
    by_id = {name: d.deal(owner=p["ann"], advertiser=p["acme"], name=name) for name in ("B", "D", "F", "H")}
    by_name = [{"field": "NAME", "direction": "ASC"}]
    page_one = await deals(gateway, token, first=2, orderBy=by_name)
    by_id |= {name: d.deal(owner=p["ann"], advertiser=p["acme"], name=name) for name in ("A", "C", "E")}

    rest = await _rest(gateway, token, page_one["pageInfo"]["endCursor"], orderBy=by_name)

    assert [e["node"]["name"] for e in page_one["edges"]] == ["B", "D"]
    assert rest == [by_id[name] for name in ("E", "F", "H")]


async def test_rows_inserted_while_paging_newest_first(gateway: Gateway) -> None:
    p, token = people(gateway.data), desk(gateway)
    ids = numbered(gateway.data, p["ann"], p["acme"], 4)
    page_one = await deals(gateway, token, first=2)
    newer = gateway.data.deal(owner=p["ann"], advertiser=p["acme"], name="Newest")  # before the cursor
    older = gateway.data.deal(owner=p["ann"], advertiser=p["acme"], name="Oldest", created_at=T0)

    rest = await _rest(gateway, token, page_one["pageInfo"]["endCursor"])

    assert [e["node"]["id"] for e in page_one["edges"]] == ids[:2]
    assert rest == [*ids[2:], older] and newer not in rest


async def _rest(gateway: Gateway, token: str, after: str, **variables: Any) -> list[str]:
    seen: list[str] = []
    while True:
        page = await deals(gateway, token, first=2, after=after, **variables)
        seen += [edge["node"]["id"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return seen
        after = page["pageInfo"]["endCursor"]


async def test_total_count_is_the_filtered_count_whatever_the_cursor(gateway: Gateway) -> None:
    p, token = people(gateway.data), desk(gateway)
    for n in range(5):
        gateway.data.deal(owner=p["ann"], advertiser=p["acme"], name=f"Keep {n}", status="APPROVED")
    for n in range(3):
        gateway.data.deal(owner=p["ann"], advertiser=p["acme"], name=f"Drop {n}", status="DRAFT")
    approved = {"status": ["APPROVED"]}

    page_one = await deals(gateway, token, first=2, filter=approved)
    page_two = await deals(gateway, token, first=2, filter=approved, after=page_one["pageInfo"]["endCursor"])

    assert page_one["totalCount"] == page_two["totalCount"] == 5
    assert (await deals(gateway, token, first=1))["totalCount"] == 8


async def test_a_row_the_gateway_cannot_read_gives_a_masked_internal_error(gateway: Gateway) -> None:
    p, token = people(gateway.data), desk(gateway)
    gateway.data.deal(owner=p["ann"], advertiser=p["acme"], name="Good")
    gateway.data.deal(owner=p["ann"], advertiser=p["acme"], name="Bad", channels="DISPLAY,HOLOGRAM")

    body = await gateway.query(DEALS, {}, token=token)

    assert body["data"] is None
    assert body["errors"] == [{"message": "Internal server error.", "locations": [{"line": 3, "column": 3}],
                               "path": ["deals"], "extensions": {"code": "INTERNAL_SERVER_ERROR"}}]
