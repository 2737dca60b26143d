"""`pipeline` and `approvalMetrics` through HTTP on a small data set, values computed by hand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from gateway.core.tables import deal_approvals
from tests.support.data import T0, Data
from tests.support.gateway import Gateway
from tests.support.workflow import Workflow, pending

PIPELINE = """
query Pipeline($groupBy: PipelineGroupBy!, $filter: DealFilter) {
  pipeline(groupBy: $groupBy, filter: $filter) { key dealCount totalValue }
}
"""
METRICS = """
query Metrics($since: DateTime) {
  approvalMetrics(since: $since) {
    stage pendingCount overdueCount decidedCount medianHoursToDecision p90HoursToDecision
  }
}
"""
STAGES = ["SALES_MANAGER", "DEAL_DESK", "FINANCE", "LEGAL", "EXECUTIVE"]
PAST, FUTURE = dt.datetime(2020, 1, 1, tzinfo=dt.UTC), dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
# deal: (owner, advertiser, agency, status, deal type, value, start date); ann is in NA, bob in EMEA
DEALS = {
    "d1": ("ann", "acme", "mind", "APPROVED", "PREFERRED_DEAL", "100.50", "2026-01-15"),
    "d2": ("ann", "globex", None, "DRAFT", "PROGRAMMATIC_GUARANTEED", "2000.00", "2026-02-10"),
    "d3": ("bob", "acme", "mind", "APPROVED", "PREFERRED_DEAL", "300.25", "2026-02-28"),
    "d4": ("bob", "globex", None, "REJECTED", "PRIVATE_MARKETPLACE", "50.01", "2026-03-01"),
    "d5": ("ann", "acme", "mind", "PENDING_APPROVAL", "PREFERRED_DEAL", "1234.56", "2026-03-31"),
}


def hour(h: float) -> dt.datetime:
    """T0 plus `h` hours."""
    return T0 + dt.timedelta(hours=h)


def world(data: Data) -> dict[str, str]:
    """Users, parties, the five DEALS, and approvals with hand-picked decision times."""
    ids = {
        "ann": data.user("ann@x.test", "SELLER", region="NA"),
        "bob": data.user("bob@x.test", "SELLER", region="EMEA"),
        "max": data.user("max@x.test", "SALES_MANAGER", region="NA"),
        "desk": data.user("desk@x.test", "DEAL_DESK", region="NA"),
        "acme": data.advertiser("Acme"), "globex": data.advertiser("Globex"),
        "mind": data.agency("Mindshare"),
    }
    for name, (owner, advertiser, agency, status, kind, value, start) in DEALS.items():
        ids[name] = data.deal(
            owner=ids[owner], advertiser=ids[advertiser], agency_id=ids[agency] if agency else None,
            status=status, deal_type=kind, total_value=Decimal(value),
            start_date=dt.date.fromisoformat(start),
        )

    def decided(deal: str, stage: str, seq: int, status: str, start: float, end: float, rnd: int = 1) -> None:
        decider = ids["max" if stage == "SALES_MANAGER" else "desk"]
        data.approval(ids[deal], stage, seq, status, round=rnd, activated_at=hour(start),
                      due_at=hour(start + 48), decided_at=hour(end), decided_by=decider)

    decided("d1", "SALES_MANAGER", 1, "APPROVED", 0, 2)  # 2 h
    decided("d1", "DEAL_DESK", 2, "APPROVED", 2, 12)  # 10 h
    decided("d3", "SALES_MANAGER", 1, "APPROVED", 0, 4)  # 4 h
    decided("d3", "DEAL_DESK", 2, "CHANGES_REQUESTED", 4, 10)  # 6 h
    data.approval(ids["d3"], "FINANCE", 3, "CANCELLED", activated_at=None)
    decided("d3", "SALES_MANAGER", 1, "APPROVED", 12, 20, rnd=2)  # 8 h
    decided("d3", "DEAL_DESK", 2, "APPROVED", 20, 40, rnd=2)  # 20 h
    decided("d4", "SALES_MANAGER", 1, "REJECTED", 0, 8)  # 8 h
    decided("d5", "SALES_MANAGER", 1, "APPROVED", 0, 1)  # 1 h
    data.approval(ids["d5"], "DEAL_DESK", 2, "PENDING", activated_at=hour(1), due_at=PAST)  # overdue
    data.approval(ids["d5"], "LEGAL", 3, "PENDING", activated_at=hour(1), due_at=FUTURE)
    data.approval(ids["d5"], "FINANCE", 4, "WAITING")
    return ids


ROLES = {"ann": ("SELLER", "NA"), "bob": ("SELLER", "EMEA"), "max": ("SALES_MANAGER", "NA"),
         "desk": ("DEAL_DESK", "NA")}


def token(gateway: Gateway, who: str) -> str:
    """A token of one of the users of `world`."""
    role, region = ROLES[who]
    return gateway.token(f"{who}@x.test", role, region=region)


async def pipeline(gateway: Gateway, who: str, group_by: str, filter: dict[str, Any] | None = None,
                   ) -> list[tuple[str, int, str]]:
    """(key, dealCount, totalValue) of each bucket."""
    data = await gateway.data_of(PIPELINE, {"groupBy": group_by, "filter": filter}, token=token(gateway, who))
    return [(b["key"], b["dealCount"], b["totalValue"]) for b in data["pipeline"]]


async def metrics(gateway: Gateway, who: str, since: dt.datetime | None = None) -> list[dict[str, Any]]:
    """The approvalMetrics rows."""
    variables = {"since": since.isoformat() if since else None}
    rows: list[dict[str, Any]] = (await gateway.data_of(METRICS, variables, token=token(gateway, who)))[
        "approvalMetrics"]
    return rows


def row(stage: str, pending: int = 0, overdue: int = 0, decided: int = 0, median: float | None = None,
        p90: float | None = None) -> dict[str, Any]:
    """An expected ApprovalStageMetrics, hours compared approximately."""
    return {"stage": stage, "pendingCount": pending, "overdueCount": overdue, "decidedCount": decided,
            "medianHoursToDecision": None if median is None else pytest.approx(median),
            "p90HoursToDecision": None if p90 is None else pytest.approx(p90)}


# With minValue 100 the filter keeps d1, d2, d3 and d5 (d4 is 50.01).
AT_LEAST_100 = {"minValue": "100"}


@pytest.mark.parametrize(
    ("group_by", "expected"),
    [
        ("STATUS", [("APPROVED", 2, "400.75"), ("DRAFT", 1, "2000.00"), ("PENDING_APPROVAL", 1, "1234.56")]),
        ("REGION", [("EMEA", 1, "300.25"), ("NA", 3, "3335.06")]),
        ("OWNER", [("ann", 3, "3335.06"), ("bob", 1, "300.25")]),
        ("ADVERTISER", [("acme", 3, "1635.31"), ("globex", 1, "2000.00")]),
        ("AGENCY", [("mind", 3, "1635.31"), ("NONE", 1, "2000.00")]),
        ("MONTH", [("2026-01", 1, "100.50"), ("2026-02", 2, "2300.25"), ("2026-03", 1, "1234.56")]),
        ("DEAL_TYPE", [("PREFERRED_DEAL", 3, "1635.31"), ("PROGRAMMATIC_GUARANTEED", 1, "2000.00")]),
    ],
)
async def test_pipeline_by_each_grouping_with_a_filter(
    gateway: Gateway, group_by: str, expected: list[tuple[str, int, str]]
) -> None:
    ids = world(gateway.data)
    keyed = sorted((ids.get(key, key), count, total) for key, count, total in expected)

    assert await pipeline(gateway, "desk", group_by, AT_LEAST_100) == keyed


async def test_pipeline_without_a_filter_counts_every_visible_deal(gateway: Gateway) -> None:
    world(gateway.data)
    assert await pipeline(gateway, "desk", "REGION") == [("EMEA", 2, "350.26"), ("NA", 3, "3335.06")]


async def test_pipeline_takes_every_filter_field(gateway: Gateway) -> None:
    ids = world(gateway.data)
    by_status = await pipeline(gateway, "desk", "STATUS", {
        "status": ["APPROVED", "REJECTED"], "advertiserId": ids["acme"], "agencyId": ids["mind"],
        "region": "EMEA", "maxValue": "1000", "search": "dd-2026", "createdAfter": T0.isoformat(),
    })
    assert by_status == [("APPROVED", 1, "300.25")]  # d3
    assert await pipeline(gateway, "desk", "OWNER", {"ownerId": ids["bob"]}) == [(ids["bob"], 2, "350.26")]


async def test_pipeline_of_a_seller_covers_only_their_deals(gateway: Gateway) -> None:
    ids = world(gateway.data)

    assert await pipeline(gateway, "ann", "STATUS") == [
        ("APPROVED", 1, "100.50"), ("DRAFT", 1, "2000.00"), ("PENDING_APPROVAL", 1, "1234.56")]
    assert await pipeline(gateway, "ann", "OWNER") == [(ids["ann"], 3, "3335.06")]
    assert await pipeline(gateway, "bob", "REGION") == [("EMEA", 2, "350.26")]
    assert await pipeline(gateway, "bob", "OWNER", {"ownerId": ids["ann"]}) == []


async def test_pipeline_of_a_sales_manager_covers_their_region(gateway: Gateway) -> None:
    world(gateway.data)
    assert await pipeline(gateway, "max", "REGION") == [("NA", 3, "3335.06")]


async def test_pipeline_of_a_caller_without_a_role_is_empty(gateway: Gateway) -> None:
    world(gateway.data)
    gateway.data.user("nobody@x.test")
    data = await gateway.data_of(PIPELINE, {"groupBy": "STATUS"}, token=gateway.token("nobody@x.test"))
    assert data == {"pipeline": []}


async def test_pipeline_rejects_a_bad_filter(gateway: Gateway) -> None:
    world(gateway.data)
    for filter, field in (({"ownerId": "ann"}, "filter.ownerId"),
                          ({"minValue": "10", "maxValue": "1"}, "filter.minValue"),
                          ({"createdAfter": "2026-01-01T00:00:00"}, "filter.createdAfter")):
        variables = {"groupBy": "STATUS", "filter": filter}
        body = await gateway.query(PIPELINE, variables, token=token(gateway, "desk"))
        assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": field}


async def test_approval_metrics_of_every_stage_in_order(gateway: Gateway) -> None:
    world(gateway.data)
    assert await metrics(gateway, "desk") == [
        # decided in 2, 4, 8, 8, 1 hours: sorted 1 2 4 8 8; median the 3rd; p90 at 4.6: 8
        row("SALES_MANAGER", decided=5, median=4, p90=8),
        # decided in 10, 6, 20 hours: median 10; p90 at position 2.8: 10 + 0.8 * 10
        row("DEAL_DESK", pending=1, overdue=1, decided=3, median=10, p90=18),
        row("FINANCE"),
        row("LEGAL", pending=1),
        row("EXECUTIVE"),
    ]


async def test_approval_metrics_since_counts_decisions_from_then_on(gateway: Gateway) -> None:
    world(gateway.data)
    assert await metrics(gateway, "desk", since=hour(12)) == [
        row("SALES_MANAGER", decided=1, median=8, p90=8),  # d3 round 2, decided at 20 h
        # decided at 12 h (10 h) and 40 h (20 h): median 15; p90 at position 1.9: 10 + 0.9 * 10
        row("DEAL_DESK", pending=1, overdue=1, decided=2, median=15, p90=19),
        row("FINANCE"),
        row("LEGAL", pending=1),
        row("EXECUTIVE"),
    ]
    after_everything = await metrics(gateway, "desk", since=hour(41))
    assert [(m["decidedCount"], m["medianHoursToDecision"]) for m in after_everything] == [(0, None)] * 5
    assert [m["pendingCount"] for m in after_everything] == [0, 1, 0, 1, 0]


async def test_approval_metrics_since_honours_the_offset(gateway: Gateway) -> None:
    world(gateway.data)
    plus_five = hour(12).astimezone(dt.timezone(dt.timedelta(hours=5)))
    assert await metrics(gateway, "desk", since=plus_five) == await metrics(gateway, "desk", since=hour(12))


async def test_approval_metrics_of_a_seller_cover_only_their_deals(gateway: Gateway) -> None:
    world(gateway.data)
    assert await metrics(gateway, "ann") == [
        row("SALES_MANAGER", decided=2, median=1.5, p90=1.9),  # d1 2 h, d5 1 h
        row("DEAL_DESK", pending=1, overdue=1, decided=1, median=10, p90=10),  # d1 10 h, d5 pending
        row("FINANCE"),
        row("LEGAL", pending=1),
        row("EXECUTIVE"),
    ]
    assert await metrics(gateway, "bob") == [
        row("SALES_MANAGER", decided=3, median=8, p90=8),  # d3 4 h and 8 h, d4 8 h
        row("DEAL_DESK", decided=2, median=13, p90=18.6),  # d3 6 h and 20 h
        row("FINANCE"), row("LEGAL"), row("EXECUTIVE"),
    ]


async def test_approval_metrics_of_a_caller_without_a_role_are_zero(gateway: Gateway) -> None:
    world(gateway.data)
    gateway.data.user("nobody@x.test")
    data = await gateway.data_of(METRICS, token=gateway.token("nobody@x.test"))
    assert data["approvalMetrics"] == [row(stage) for stage in STAGES]


async def test_approval_metrics_since_needs_an_offset_and_a_utc_instant(gateway: Gateway) -> None:
    world(gateway.data)
    for since in ("2026-01-01T12:00:00", "9999-12-31T23:00:00-05:00"):
        body = await gateway.query(METRICS, {"since": since}, token=token(gateway, "desk"))
        assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "since"}


async def test_approval_metrics_count_decisions_made_through_the_api(gateway: Gateway) -> None:
    flow = await Workflow(gateway).meet()
    deal = await flow.submit(await flow.create())  # chain SALES_MANAGER, DEAL_DESK, FINANCE
    deal = await flow.decide(pending(deal)["id"], "APPROVE", who="manager")
    await flow.decide(pending(deal)["id"], "REQUEST_CHANGES", who="desk")  # FINANCE is cancelled
    with flow.engine.connect() as connection:
        a = deal_approvals.c
        taken = {row.stage: (row.decided_at - row.activated_at).total_seconds() / 3600
                 for row in connection.execute(select(a.stage, a.activated_at, a.decided_at)
                                               .where(a.decided_at.is_not(None)))}

    data = await gateway.data_of(METRICS, token=flow.tokens["admin"])
    hours = [pytest.approx(taken.get(stage), abs=1e-6) for stage in STAGES]
    assert [(m["decidedCount"], m["medianHoursToDecision"], m["p90HoursToDecision"])
            for m in data["approvalMetrics"]] == [
        (1, hours[0], hours[0]), (1, hours[1], hours[1]), (0, None, None), (0, None, None), (0, None, None)]
