"""The full deal page: one query, every nested field, a bounded number of statements."""

from __future__ import annotations

from decimal import Decimal

from tests.support.data import Data
from tests.support.gateway import Gateway

DEAL_FIELDS = """
fragment DealFields on Deal {
  id dealNumber name status dealType channels region currency totalValue startDate endDate
  targetMarginPct floorCpm nonStandardTerms notes version createdAt updatedAt submittedAt
  owner { id email displayName region roles active }
  advertiser { id name industry region }
  agency { id name holdingCompany }
  scopingRequest { id title status requestedBy { email } }
  tiers { id tierNumber minSpend maxSpend cpm marginPct }
  incentives { id type unit value description }
  approvals {
    id stage sequence status dueAt decidedAt decidedBy { email }
    actions { id action comment createdAt actor { id email } }
  }
  statusHistory { id fromStatus toStatus reason changedAt changedBy { id email } }
}
"""
DEAL_PAGE = DEAL_FIELDS + "query DealPage($id: ID!) { deal(id: $id) { ...DealFields } }"
LIST_PAGE = DEAL_FIELDS + """
query Deals($first: Int) { deals(first: $first) { totalCount edges { cursor node { ...DealFields } } } }
"""


def approved_deal(data: Data, *, owner: str, manager: str, desk: str, advertiser: str, agency: str,
                  name: str = "Acme Q3") -> str:
    """A deal through a two-stage chain with tiers, incentives, actions and history."""
    deal = data.deal(owner=owner, advertiser=advertiser, agency_id=agency, name=name, status="APPROVED",
                     total_value=Decimal("250000.00"), version=4)
    data.tier(deal, 1, "0", "100000", "12.5", "32")
    data.tier(deal, 2, "100000", None, "11", "28.5")
    data.incentive(deal, 1, "AGENCY_REBATE", "PERCENT", "3.5")
    data.incentive(deal, 2, "ADDED_VALUE", "IMPRESSIONS", "500000")
    first = data.approval(deal, "SALES_MANAGER", 1, "APPROVED", decided_by=manager, decided_at=data.tick())
    second = data.approval(deal, "DEAL_DESK", 2, "APPROVED", decided_by=desk, decided_at=data.tick())
    data.action(first, deal, manager, "COMMENT", "Looks fine")
    data.action(first, deal, manager, "APPROVE")
    data.action(second, deal, desk, "APPROVE", "ok")
    data.change(deal, owner, "DRAFT")
    data.change(deal, owner, "PENDING_APPROVAL", "DRAFT")
    data.change(deal, desk, "APPROVED", "PENDING_APPROVAL")
    data.scoping(requested_by=owner, advertiser=advertiser, status="CONVERTED", converted_deal_id=deal)
    return deal


def cast(data: Data) -> dict[str, str]:
    """Users and reference data of the deal-page tests."""
    return {
        "owner": data.user("seller@x.test", "SELLER", region="NA"),
        "manager": data.user("manager@x.test", "SALES_MANAGER", region="NA"),
        "desk": data.user("desk@x.test", "DEAL_DESK", region="NA"),
        "advertiser": data.advertiser("Acme", industry="Retail"),
        "agency": data.agency("Mediahaus", holding_company="WPP"),
    }


async def test_full_deal_page_answers_every_nested_field(gateway: Gateway) -> None:
    people = cast(gateway.data)
    deal_id = approved_deal(gateway.data, **people)
    token = gateway.token("desk@x.test", "DEAL_DESK", region="NA")

    deal = (await gateway.data_of(DEAL_PAGE, {"id": deal_id}, token=token))["deal"]

    assert (deal["name"], deal["status"], deal["totalValue"]) == ("Acme Q3", "APPROVED", "250000.00")
    assert deal["channels"] == ["DISPLAY", "VIDEO"] and deal["targetMarginPct"] == "35.0000"
    assert deal["owner"]["email"] == "seller@x.test" and deal["agency"]["holdingCompany"] == "WPP"
    assert deal["advertiser"]["name"] == "Acme" and deal["scopingRequest"]["status"] == "CONVERTED"
    assert [t["minSpend"] for t in deal["tiers"]] == ["0.00", "100000.00"]
    assert deal["tiers"][1]["maxSpend"] is None and deal["tiers"][1]["marginPct"] == "28.5000"
    assert [i["type"] for i in deal["incentives"]] == ["AGENCY_REBATE", "ADDED_VALUE"]
    assert [a["stage"] for a in deal["approvals"]] == ["SALES_MANAGER", "DEAL_DESK"]
    assert [a["action"] for a in deal["approvals"][0]["actions"]] == ["COMMENT", "APPROVE"]
    assert deal["approvals"][1]["decidedBy"]["email"] == "desk@x.test"
    assert [c["toStatus"] for c in deal["statusHistory"]] == ["DRAFT", "PENDING_APPROVAL", "APPROVED"]
    assert deal["createdAt"].endswith("+00:00")


async def test_full_deal_page_runs_six_statements(gateway: Gateway) -> None:
    people = cast(gateway.data)
    deal_id = approved_deal(gateway.data, **people)
    token = gateway.token("desk@x.test", "DEAL_DESK", region="NA")
    await gateway.data_of("{ me { id } }", token=token)

    sent, data = await gateway.count_statements(DEAL_PAGE, {"id": deal_id}, token=token)

    # deal+owner+advertiser+agency, scoping request, tiers, incentives,
    # approvals+deciders, history+users, actions+actors
    assert data["deal"]["id"] == deal_id
    assert sent == 7


async def test_deal_list_statements_do_not_grow_with_rows(gateway: Gateway) -> None:
    people = cast(gateway.data)
    for number in range(60):
        approved_deal(gateway.data, **people, name=f"Deal {number}")
    token = gateway.token("desk@x.test", "DEAL_DESK", region="NA")
    await gateway.data_of("{ me { id } }", token=token)

    sent_50, data_50 = await gateway.count_statements(LIST_PAGE, {"first": 50}, token=token)
    sent_2, data_2 = await gateway.count_statements(LIST_PAGE, {"first": 2}, token=token)

    assert len(data_50["deals"]["edges"]) == 50 and data_50["deals"]["totalCount"] == 60
    assert len(data_2["deals"]["edges"]) == 2
    assert sent_50 == sent_2 == 8


async def test_unknown_deal_is_null(gateway: Gateway) -> None:
    gateway.data.user("desk@x.test", "DEAL_DESK")
    token = gateway.token("desk@x.test", "DEAL_DESK")
    data = await gateway.data_of(DEAL_PAGE, {"id": "01900000-0000-7000-8000-000000000000"}, token=token)
    assert data == {"deal": None}


async def test_malformed_deal_id_is_bad_user_input(gateway: Gateway) -> None:
    token = gateway.token("desk@x.test", "DEAL_DESK")
    body = await gateway.query(DEAL_PAGE, {"id": "not-an-id"}, token=token)
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "id"}


async def test_500_deal_export_stays_within_fifty_statements(gateway: Gateway) -> None:
    people = cast(gateway.data)
    with gateway.data.batch():
        for number in range(510):
            approved_deal(gateway.data, **people, name=f"Deal {number}")
    token = gateway.token("desk@x.test", "DEAL_DESK", region="NA")
    await gateway.data_of("{ me { id } }", token=token)

    sent, data = await gateway.count_statements(LIST_PAGE, {"first": 500}, token=token)

    assert len(data["deals"]["edges"]) == 500 and data["deals"]["totalCount"] == 510
    assert sent == 8


async def test_full_deal_page_with_pricing_guidance_runs_eight_statements(gateway: Gateway) -> None:
    from gateway.store import pricing_refresh

    people = cast(gateway.data)
    deal_id = approved_deal(gateway.data, **people)
    await pricing_refresh.refresh(gateway.app.state.db, refresh_s=None)  # a fresh clock: no refresh now
    token = gateway.token("desk@x.test", "DEAL_DESK", region="NA")
    await gateway.data_of("{ me { id } }", token=token)
    guidance = "pricingGuidance { level similarDeals { id owner { email } } } "
    guided = DEAL_PAGE.replace("statusHistory {", guidance + "statusHistory {")

    sent, body = await gateway.count_statements_of(guided, {"id": deal_id}, token=token)

    # the seven of the page, and the guidance's segments with their similar deals (their owners primed)
    assert sent == 8
    assert body["data"]["deal"]["id"] == deal_id and body["data"]["deal"]["pricingGuidance"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["INSUFFICIENT_DATA"]  # no closed deal
