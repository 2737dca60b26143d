"""myApprovalQueue: PENDING stages the caller may decide now, oldest activated first."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.support.data import T0, Data
from tests.support.gateway import Gateway

QUEUE = """
query Queue($first: Int, $after: String) {
  myApprovalQueue(first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id stage sequence status dueAt deal { id name owner { email } } } }
  }
}
"""
# who: (roles, region)
PEOPLE: dict[str, tuple[tuple[str, ...], str | None]] = {
    "ann": (("SELLER",), "NA"), "cat": (("SELLER",), "EMEA"),
    "max": (("SALES_MANAGER",), "NA"), "sam": (("SALES_MANAGER",), "NA"), "mia": (("SALES_MANAGER",), "EMEA"),
    "desk": (("DEAL_DESK",), "NA"), "dora": (("DEAL_DESK",), "EMEA"), "fin": (("FINANCE",), "NA"),
    "leg": (("LEGAL",), None), "exe": (("EXECUTIVE",), None), "duo": (("SALES_MANAGER", "FINANCE"), "NA"),
    "ana": (("ANALYST",), None), "adm": (("ADMIN",), "NA"), "nobody": ((), "NA"),
}


def hour(h: int) -> dt.datetime:
    """T0 plus `h` hours."""
    return T0 + dt.timedelta(hours=h)


def cast(data: Data) -> dict[str, str]:
    """Every person of PEOPLE, and an advertiser."""
    ids = {who: data.user(f"{who}@x.test", *roles, region=region) for who, (roles, region) in PEOPLE.items()}
    return {**ids, "acme": data.advertiser("Acme")}


def chains(data: Data, c: dict[str, str]) -> dict[str, str]:
    """Deals (named by letter) with approval rows; returns the PENDING approvals by deal name."""
    pending = {}

    def deal(name: str, owner: str) -> str:
        return data.deal(owner=c[owner], advertiser=c["acme"], name=name, status="PENDING_APPROVAL")

    def stage(deal_id: str, name: str, stage: str, sequence: int, status: str, activated: int | None = None,
              **values: Any) -> None:
        moment = None if activated is None else hour(activated)
        due = None if moment is None else moment + dt.timedelta(hours=48)
        approval = data.approval(deal_id, stage, sequence, status, activated_at=moment, due_at=due, **values)
        if status == "PENDING":
            pending[name] = approval

    a = deal("A", "ann")  # NA
    stage(a, "A", "SALES_MANAGER", 1, "PENDING", 10)
    stage(a, "A-dd", "DEAL_DESK", 2, "WAITING")
    b = deal("B", "cat")  # EMEA
    stage(b, "B", "SALES_MANAGER", 1, "PENDING", 9)
    c_ = deal("C", "ann")
    stage(c_, "C-sm", "SALES_MANAGER", 1, "APPROVED", 1, decided_by=c["max"], decided_at=hour(2))
    stage(c_, "C", "DEAL_DESK", 2, "PENDING", 8)
    stage(c_, "C-fin", "FINANCE", 3, "WAITING")
    d = deal("D", "sam")  # a sales manager's own deal, NA
    stage(d, "D", "SALES_MANAGER", 1, "PENDING", 7)
    e = deal("E", "ann")
    stage(e, "E", "SALES_MANAGER", 1, "PENDING", 6)
    f = deal("F", "desk")  # the desk's own deal
    stage(f, "F", "DEAL_DESK", 2, "PENDING", 5)
    g = deal("G", "cat")
    stage(g, "G", "FINANCE", 3, "PENDING", 4)
    h = deal("H", "ann")  # resubmitted: the first round was cancelled
    stage(h, "H-old", "SALES_MANAGER", 1, "CANCELLED", 0, round=1)
    stage(h, "H", "SALES_MANAGER", 1, "PENDING", 3, round=2)
    i = deal("I", "ann")
    stage(i, "I-legal", "LEGAL", 4, "PENDING", 2)
    stage(i, "I-exec", "EXECUTIVE", 5, "PENDING", 11)
    j = deal("J", "ann")  # decided or closed stages never queue
    stage(j, "J-rej", "SALES_MANAGER", 1, "REJECTED", 1, decided_by=c["max"], decided_at=hour(1))
    stage(j, "J-chg", "DEAL_DESK", 2, "CHANGES_REQUESTED", 1)
    return pending


def token(gateway: Gateway, who: str) -> str:
    """A token of one of PEOPLE."""
    roles, region = PEOPLE[who]
    return gateway.token(f"{who}@x.test", *roles, region=region)


async def queue(gateway: Gateway, who: str, **variables: Any) -> dict[str, Any]:
    """The caller's queue connection."""
    connection: dict[str, Any] = (await gateway.data_of(QUEUE, variables, token=token(gateway, who)))[
        "myApprovalQueue"]
    return connection


async def deal_names(gateway: Gateway, who: str) -> list[str]:
    """Names of the deals in the caller's queue, in queue order; totalCount checked."""
    connection = await queue(gateway, who)
    assert connection["totalCount"] == len(connection["edges"])
    return [edge["node"]["deal"]["name"] for edge in connection["edges"]]


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("max", ["H", "E", "D", "A"]),  # SALES_MANAGER stages of NA deals, oldest activated first
        ("sam", ["H", "E", "A"]),  # never their own deal D
        ("mia", ["B"]),  # EMEA only
        ("desk", ["C"]),  # DEAL_DESK stages, but not their own deal F
        ("dora", ["F", "C"]),  # the DEAL_DESK stage is not regional
        ("fin", ["G"]),
        ("leg", ["I"]),
        ("exe", ["I"]),
        ("duo", ["H", "G", "E", "D", "A"]),  # both roles' stages
        ("ann", []),
        ("ana", []),
        ("adm", []),  # ADMIN holds no stage
        ("nobody", []),
    ],
)
async def test_queue_holds_the_pending_stages_of_the_callers_roles(
    gateway: Gateway, who: str, expected: list[str]
) -> None:
    chains(gateway.data, cast(gateway.data))
    assert await deal_names(gateway, who) == expected


async def test_queue_entries_are_the_pending_approvals(gateway: Gateway) -> None:
    c = cast(gateway.data)
    pending = chains(gateway.data, c)

    edges = (await queue(gateway, "desk"))["edges"]

    assert [edge["node"] for edge in edges] == [{
        "id": pending["C"], "stage": "DEAL_DESK", "sequence": 2, "status": "PENDING",
        "dueAt": (hour(8) + dt.timedelta(hours=48)).isoformat(),
        "deal": {"id": edges[0]["node"]["deal"]["id"], "name": "C", "owner": {"email": "ann@x.test"}},
    }]


async def test_sales_manager_region_may_come_from_the_users_row(gateway: Gateway) -> None:
    chains(gateway.data, cast(gateway.data))
    no_region_claim = gateway.token("max@x.test", "SALES_MANAGER")

    data = await gateway.data_of(QUEUE, token=no_region_claim)

    assert [edge["node"]["deal"]["name"] for edge in data["myApprovalQueue"]["edges"]] == ["H", "E", "D", "A"]


async def test_sales_manager_without_a_region_gets_no_sales_manager_stage(gateway: Gateway) -> None:
    c = cast(gateway.data)
    chains(gateway.data, c)
    gateway.data.user("lost@x.test", "SALES_MANAGER", region=None)

    data = await gateway.data_of(QUEUE, token=gateway.token("lost@x.test", "SALES_MANAGER"))

    assert data["myApprovalQueue"]["totalCount"] == 0 and data["myApprovalQueue"]["edges"] == []


async def test_walking_the_queue_page_by_page(gateway: Gateway) -> None:
    pending = chains(gateway.data, cast(gateway.data))

    seen, after = [], None
    while True:
        page = await queue(gateway, "duo", first=2, after=after)
        info = page["pageInfo"]
        assert page["totalCount"] == 5
        assert info["hasPreviousPage"] is (after is not None)
        assert (info["startCursor"], info["endCursor"]) == (page["edges"][0]["cursor"],
                                                            page["edges"][-1]["cursor"])
        seen += [edge["node"]["id"] for edge in page["edges"]]
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]

    assert seen == [pending[name] for name in ("H", "G", "E", "D", "A")]


async def test_equal_activation_times_are_ordered_by_id(gateway: Gateway) -> None:
    c = cast(gateway.data)
    ids = []
    for _ in range(3):
        deal = gateway.data.deal(owner=c["ann"], advertiser=c["acme"], status="PENDING_APPROVAL")
        ids.append(gateway.data.approval(deal, "FINANCE", 3, "PENDING", activated_at=hour(1)))

    page_one = await queue(gateway, "fin", first=2)
    page_two = await queue(gateway, "fin", first=2, after=page_one["pageInfo"]["endCursor"])

    assert [e["node"]["id"] for e in page_one["edges"] + page_two["edges"]] == sorted(ids)


async def test_empty_queue_page(gateway: Gateway) -> None:
    cast(gateway.data)
    assert await queue(gateway, "max") == {"totalCount": 0, "edges": [], "pageInfo": {
        "hasNextPage": False, "hasPreviousPage": False, "startCursor": None, "endCursor": None}}


async def test_bad_queue_page_arguments_are_bad_user_input(gateway: Gateway) -> None:
    chains(gateway.data, cast(gateway.data))
    scoping = gateway.data.scoping(requested_by=gateway.data.user("s@x.test", "SELLER"),
                                   advertiser=gateway.data.advertiser("Other"))
    assert scoping
    other = (await gateway.data_of("{ scopingRequests(first: 1) { pageInfo { endCursor } } }",
                                   token=token(gateway, "desk")))["scopingRequests"]["pageInfo"]["endCursor"]

    for variables, field in (({"first": 501}, "first"), ({"first": -1}, "first"),
                             ({"after": "nope"}, "after"), ({"after": other}, "after")):
        body = await gateway.query(QUEUE, variables, token=token(gateway, "max"))
        assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": field}
