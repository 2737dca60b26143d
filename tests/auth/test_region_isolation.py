"""A SALES_MANAGER of NA sees nothing of EMEA through any query path, counts and aggregates included."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from tests.support.gateway import Gateway

NOW = dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Regions:
    """Ids of the two regions' data."""

    seller_emea: str
    advertiser: str
    agency: str
    emea_advertiser: str
    na_deal: str
    na_done: str
    na_approval: str
    emea_deal: str
    emea_done: str
    emea_approval: str
    emea_done_approval: str
    na_scoping: str
    emea_scoping: str


def build(gateway: Gateway) -> Regions:
    """One NA and one EMEA seller on shared reference data, each with a pending and a decided deal."""
    data = gateway.data
    seller_na = data.user("seller.na@x.test", "SELLER", region="NA")
    seller_emea = data.user("seller.emea@x.test", "SELLER", region="EMEA")
    manager_na = data.user("manager.na@x.test", "SALES_MANAGER", region="NA")
    manager_emea = data.user("manager.emea@x.test", "SALES_MANAGER", region="EMEA")
    advertiser, agency = data.advertiser("Acme"), data.agency("Mediahaus")
    emea_advertiser = data.advertiser("Euro Only")

    def deal(owner: str, status: str, value: str, advertiser_id: str = advertiser) -> str:
        return data.deal(owner=owner, advertiser=advertiser_id, agency_id=agency, status=status,
                         total_value=Decimal(value))

    def pending(deal_id: str, due: dt.datetime) -> str:
        start = due - dt.timedelta(hours=48)
        return data.approval(deal_id, "SALES_MANAGER", 1, "PENDING", activated_at=start, due_at=due)

    def decided(deal_id: str, by: str) -> str:
        start = NOW - dt.timedelta(hours=30)
        made = data.approval(deal_id, "SALES_MANAGER", 1, "APPROVED", activated_at=start,
                             due_at=start + dt.timedelta(hours=48), decided_by=by,
                             decided_at=start + dt.timedelta(hours=6))
        data.action(made, deal_id, by, "APPROVE")
        return made

    na_deal, na_done = deal(seller_na, "PENDING_APPROVAL", "1000"), deal(seller_na, "APPROVED", "2000")
    emea_deal = deal(seller_emea, "PENDING_APPROVAL", "4000")
    emea_done = deal(seller_emea, "APPROVED", "8000", emea_advertiser)
    na_approval = pending(na_deal, NOW + dt.timedelta(hours=24))
    emea_approval = pending(emea_deal, NOW - dt.timedelta(hours=1))  # overdue
    decided(na_done, manager_na)
    emea_done_approval = decided(emea_done, manager_emea)
    return Regions(
        seller_emea=seller_emea, advertiser=advertiser, agency=agency, emea_advertiser=emea_advertiser,
        na_deal=na_deal, na_done=na_done, na_approval=na_approval, emea_deal=emea_deal,
        emea_done=emea_done, emea_approval=emea_approval, emea_done_approval=emea_done_approval,
        na_scoping=data.scoping(requested_by=seller_na, advertiser=advertiser),
        emea_scoping=data.scoping(requested_by=seller_emea, advertiser=advertiser, status="QUALIFIED"),
    )


@pytest.fixture
def regions(gateway: Gateway) -> Regions:
    return build(gateway)


@pytest.fixture(params=["region claim", "stored region"])
def manager(request: pytest.FixtureRequest, gateway: Gateway, regions: Regions) -> str:
    """The NA manager's token: region from the token, or (no claim) from their users row."""
    region = "NA" if request.param == "region claim" else None
    return gateway.token("manager.na@x.test", "SALES_MANAGER", region=region)


def ids(connection: dict[str, Any]) -> set[str]:
    return {edge["node"]["id"] for edge in connection["edges"]}


async def test_deal_by_id_and_node(gateway: Gateway, regions: Regions, manager: str) -> None:
    query = """query($deal: ID!, $approval: ID!, $done: ID!, $scoping: ID!, $own: ID!) {
      deal(id: $deal) { id }
      dealNode: node(id: $deal) { id }
      approvalNode: node(id: $approval) { id }
      doneApprovalNode: node(id: $done) { id }
      scopingNode: node(id: $scoping) { id }
      scopingRequest(id: $scoping) { id }
      own: deal(id: $own) { id region }
    }"""
    variables = {"deal": regions.emea_deal, "approval": regions.emea_approval,
                 "done": regions.emea_done_approval, "scoping": regions.emea_scoping, "own": regions.na_deal}

    data = await gateway.data_of(query, variables, token=manager)

    assert data == {"deal": None, "dealNode": None, "approvalNode": None, "doneApprovalNode": None,
                    "scopingNode": None, "scopingRequest": None,
                    "own": {"id": regions.na_deal, "region": "NA"}}


async def test_deals_lists_and_counts(gateway: Gateway, regions: Regions, manager: str) -> None:
    query = """query($seller: ID!) {
      all: deals { totalCount edges { node { id } } }
      emea: deals(filter: {region: "EMEA"}) { totalCount edges { node { id } } }
      bySeller: deals(filter: {ownerId: $seller}) { totalCount edges { node { id } } }
      searched: deals(filter: {search: "Deal"}) { totalCount edges { node { id } } }
    }"""
    data = await gateway.data_of(query, {"seller": regions.seller_emea}, token=manager)

    assert ids(data["all"]) == {regions.na_deal, regions.na_done} and data["all"]["totalCount"] == 2
    assert data["emea"] == data["bySeller"] == {"totalCount": 0, "edges": []}
    assert ids(data["searched"]) == {regions.na_deal, regions.na_done} and data["searched"]["totalCount"] == 2


async def test_deals_of_advertisers_and_agencies(gateway: Gateway, regions: Regions, manager: str) -> None:
    query = """query($advertiser: ID!, $agency: ID!, $euro: ID!) {
      advertiser(id: $advertiser) { deals { totalCount edges { node { id } } } }
      agency(id: $agency) { deals(first: 10) { totalCount edges { node { id } } } }
      euro: advertiser(id: $euro) { name deals { totalCount edges { node { id } } } }
      advertisers { edges { node { id deals { totalCount edges { node { id } } } } } }
      agencies { edges { node { deals { totalCount edges { node { id } } } } } }
      node(id: $agency) { ... on Agency { deals { totalCount edges { node { id } } } } }
    }"""
    variables = {"advertiser": regions.advertiser, "agency": regions.agency, "euro": regions.emea_advertiser}
    data = await gateway.data_of(query, variables, token=manager)

    na = {regions.na_deal, regions.na_done}
    assert ids(data["advertiser"]["deals"]) == na and data["advertiser"]["deals"]["totalCount"] == 2
    assert ids(data["agency"]["deals"]) == na and data["agency"]["deals"]["totalCount"] == 2
    assert data["euro"] == {"name": "Euro Only", "deals": {"totalCount": 0, "edges": []}}
    by_advertiser = {e["node"]["id"]: e["node"]["deals"] for e in data["advertisers"]["edges"]}
    assert by_advertiser[regions.emea_advertiser] == {"totalCount": 0, "edges": []}
    shared = by_advertiser[regions.advertiser]
    assert ids(shared) == na and shared["totalCount"] == 2
    [agency] = data["agencies"]["edges"]
    assert ids(agency["node"]["deals"]) == na and agency["node"]["deals"]["totalCount"] == 2
    assert ids(data["node"]["deals"]) == na and data["node"]["deals"]["totalCount"] == 2


async def test_pipeline(gateway: Gateway, regions: Regions, manager: str) -> None:
    query = """{
      region: pipeline(groupBy: REGION) { key dealCount totalValue }
      owner: pipeline(groupBy: OWNER) { key dealCount totalValue }
      advertiser: pipeline(groupBy: ADVERTISER) { key dealCount totalValue }
      emea: pipeline(groupBy: STATUS, filter: {region: "EMEA"}) { key dealCount }
    }"""
    data = await gateway.data_of(query, token=manager)

    assert [(b["key"], b["dealCount"], Decimal(b["totalValue"])) for b in data["region"]] == [
        ("NA", 2, Decimal(3000))]
    assert [(b["dealCount"], Decimal(b["totalValue"])) for b in data["owner"]] == [(2, Decimal(3000))]
    assert [(b["key"], b["dealCount"]) for b in data["advertiser"]] == [(regions.advertiser, 2)]
    assert data["emea"] == []


METRICS = "{ approvalMetrics { stage pendingCount overdueCount decidedCount medianHoursToDecision } }"


async def test_approval_metrics(gateway: Gateway, regions: Regions, manager: str) -> None:
    desk = gateway.token("desk@x.test", "DEAL_DESK")
    everyone = {m["stage"]: m for m in (await gateway.data_of(METRICS, token=desk))["approvalMetrics"]}
    mine = {m["stage"]: m for m in (await gateway.data_of(METRICS, token=manager))["approvalMetrics"]}

    assert everyone["SALES_MANAGER"] == {"stage": "SALES_MANAGER", "pendingCount": 2, "overdueCount": 1,
                                         "decidedCount": 2, "medianHoursToDecision": pytest.approx(6.0)}
    assert mine["SALES_MANAGER"] == {"stage": "SALES_MANAGER", "pendingCount": 1, "overdueCount": 0,
                                     "decidedCount": 1, "medianHoursToDecision": pytest.approx(6.0)}
    assert all(m["pendingCount"] == m["decidedCount"] == 0 for s, m in mine.items() if s != "SALES_MANAGER")


async def test_my_approval_queue(gateway: Gateway, regions: Regions, manager: str) -> None:
    query = "{ myApprovalQueue { totalCount edges { node { id stage deal { id region } } } } }"
    data = await gateway.data_of(query, token=manager)

    [edge] = data["myApprovalQueue"]["edges"]
    assert data["myApprovalQueue"]["totalCount"] == 1
    assert edge["node"] == {"id": regions.na_approval, "stage": "SALES_MANAGER",
                            "deal": {"id": regions.na_deal, "region": "NA"}}


async def test_emea_manager_queue_is_the_mirror_image(gateway: Gateway, regions: Regions) -> None:
    token = gateway.token("manager.emea@x.test", "SALES_MANAGER", region="EMEA")
    data = await gateway.data_of("{ myApprovalQueue { totalCount edges { node { id } } } }", token=token)
    assert ids(data["myApprovalQueue"]) == {regions.emea_approval}


async def test_scoping_requests(gateway: Gateway, regions: Regions, manager: str) -> None:
    query = """{
      all: scopingRequests { totalCount edges { node { id } } }
      qualified: scopingRequests(status: [QUALIFIED]) { totalCount edges { node { id } } }
    }"""
    data = await gateway.data_of(query, token=manager)

    assert ids(data["all"]) == {regions.na_scoping} and data["all"]["totalCount"] == 1
    assert data["qualified"] == {"totalCount": 0, "edges": []}


async def test_a_manager_moved_to_another_region_sees_that_one(gateway: Gateway, regions: Regions) -> None:
    token = gateway.token("manager.na@x.test", "SALES_MANAGER", region="EMEA")  # the claim wins
    data = await gateway.data_of("{ deals { edges { node { id } } } }", token=token)
    assert ids(data["deals"]) == {regions.emea_deal, regions.emea_done}
