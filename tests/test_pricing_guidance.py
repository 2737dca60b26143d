"""Pricing guidance: quartiles and shrunk win rates worked out by hand on a small fixed data set, the
fallback at each level, the minimum-sample refusal, similar deals under row rules, the refresh clock."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from gateway.core.settings import Settings
from gateway.store import pricing, pricing_refresh
from gateway.store.database import Database
from tests.support.data import Data
from tests.support.gateway import Gateway
from tests.support.stores import write_mode
from tests.test_deal import DEAL_PAGE, approved_deal, cast

MIN_SAMPLE = 5


@pytest.fixture
def settings(database_url: str, store_kind: str, tmp_path: Path) -> Settings:
    """The gateway's settings with a minimum sample of 5, so that a few deals make a segment."""
    mode: Any = write_mode(store_kind)
    return Settings(database_url=database_url, dev_key_file=str(tmp_path / "dev-key.json"), write_mode=mode,
                    guidance_min_sample=MIN_SAMPLE, _env_file=None)  # type: ignore[call-arg]


@dataclass
class History:
    """Ids of the closed deals, by name."""

    ids: dict[str, str]
    ann: str
    bea: str
    eve: str


def closed_deal(data: Data, owner: str, advertiser: str, value: str, cpm: str | None, *,
                margin: str | None = None, status: str = "CLOSED_WON", deal_type: str = "PREFERRED_DEAL",
                channels: str = "DISPLAY", **values: Any) -> str:
    """A closed deal whose first tier has `cpm`; a second tier's CPM must never count."""
    deal = data.deal(owner=owner, advertiser=advertiser, status=status, deal_type=deal_type,
                     channels=channels, total_value=Decimal(value),
                     target_margin_pct=Decimal(margin) if margin else None, **values)
    if cpm is not None:
        data.tier(deal, 1, "0", "5000", cpm)
        data.tier(deal, 2, "5000", None, "99")
    return deal


def build_history(data: Data) -> History:
    """Preferred deals in NA: six won (DISPLAY, under 100K), five won VIDEO; one in EMEA; three won
    managed-service deals; lost, rejected, withdrawn and draft deals around them."""
    ann = data.user("ann@x.test", "SELLER", region="NA")
    bea = data.user("bea@x.test", "SELLER", region="NA")
    eve = data.user("eve@x.test", "SELLER", region="EMEA")
    acme = data.advertiser("Acme")
    ids: dict[str, str] = {}

    def add(name: str, owner: str, value: str, cpm: str | None, **values: Any) -> None:
        ids[name] = closed_deal(data, owner, acme, value, cpm, **values)

    # Segment A, PREFERRED_DEAL / DISPLAY / NA / under 100K: created a1 first, a6 last.
    for name, owner, value, cpm, margin in (
        ("a1", ann, "10000", "10", "30"), ("a2", ann, "20000", "12.0001", "32"),
        ("a3", ann, "30000", "13.0002", "35"), ("a4", ann, "40000", "20", "40"),
        ("a5", bea, "50000", "30", "41"), ("a6", bea, "60000", "31", None),
    ):
        add(name, owner, value, cpm, margin=margin)
    add("a_lost1", ann, "25000", "5", status="CLOSED_LOST")
    add("a_lost2", bea, "26000", "5", status="CLOSED_LOST")
    add("a_rejected", ann, "27000", "5", status="REJECTED")
    add("a_withdrawn", ann, "28000", "5", status="WITHDRAWN")
    add("a_draft", ann, "35000", "5", status="DRAFT")
    # PREFERRED_DEAL / VIDEO / NA: two under 100K (the first lists VIDEO first: its main channel), three
    # of 100K-1M.
    add("b1", bea, "70000", "40", channels="VIDEO,DISPLAY")
    add("b2", bea, "80000", "50", channels="VIDEO")
    for name, value, cpm in (("b3", "200000", "41"), ("b4", "300000", "42"), ("b5", "400000", "43")):
        add(name, bea, value, cpm, channels="VIDEO")
    add("e1", eve, "30000", "8")  # EMEA
    for name, cpm in (("m1", "5"), ("m2", "6"), ("m3", "7")):
        add(name, ann, "30000", cpm, deal_type="MANAGED_SERVICE")
    return History(ids, ann, bea, eve)


OVERALL_WON, OVERALL_DECIDED = 15, 18  # 6 + 5 + 1 + 3 won; 3 more lost or rejected


def shrunk(won: int, decided: int) -> float:
    """PRODUCT.md's win rate, in the order of operations the SQL uses."""
    return (won + 20.0 * OVERALL_WON / OVERALL_DECIDED) / (decided + 20.0)


GUIDANCE = """
query Guidance($input: PricingGuidanceInput!, $first: Int) {
  pricingGuidance(input: $input) {
    segment level sampleSize winRate
    cpm { p25 p50 p75 }
    marginPct { p25 p50 p75 }
    similarDeals(first: $first) { id totalValue owner { email } }
  }
}"""


def ask(deal_type: str = "PREFERRED_DEAL", channels: tuple[str, ...] = ("DISPLAY",),
        region: str | None = "NA", value: str = "35000") -> dict[str, Any]:
    return {"dealType": deal_type, "channels": list(channels), "region": region, "totalValue": value}


async def refreshed(gateway: Gateway) -> History:
    history = build_history(gateway.data)
    assert await pricing_refresh.refresh(gateway.app.state.db, refresh_s=None)
    return history


def desk(gateway: Gateway) -> str:
    return gateway.token("desk@x.test", "DEAL_DESK", region="NA")


async def test_own_segment_quartiles_and_win_rate_are_the_hand_computed_ones(gateway: Gateway) -> None:
    await refreshed(gateway)

    found = (await gateway.data_of(GUIDANCE, {"input": ask()}, token=desk(gateway)))["pricingGuidance"]

    assert (found["segment"], found["level"], found["sampleSize"]) == (
        "PREFERRED_DEAL / DISPLAY / NA / under 100K", 0, 6)
    # CPMs 10, 12.0001, 13.0002, 20, 30, 31: positions 2.25, 3.5 and 4.75, blended linearly.
    assert found["cpm"] == {"p25": "12.250125", "p50": "16.500100", "p75": "27.500000"}
    # Margins 30, 32, 35, 40, 41 (a6 has none): positions 2, 3, 4.
    assert found["marginPct"] == {"p25": "32.000000", "p50": "35.000000", "p75": "40.000000"}
    assert found["winRate"] == shrunk(6, 9)  # 6 won, 2 lost, 1 rejected; withdrawn and draft not counted


async def test_below_the_minimum_the_band_is_dropped_first(gateway: Gateway) -> None:
    await refreshed(gateway)

    found = (await gateway.data_of(GUIDANCE, {"input": ask(channels=("VIDEO", "CTV"), value="90000")},
                                   token=desk(gateway)))["pricingGuidance"]

    # Two won VIDEO deals under 100K (b1's channels start with VIDEO): too few; with every value, five.
    assert (found["segment"], found["level"], found["sampleSize"]) == (
        "PREFERRED_DEAL / VIDEO / NA / any value", 1, 5)
    assert found["cpm"] == {"p25": "41.000000", "p50": "42.000000", "p75": "43.000000"}
    assert found["marginPct"] is None  # none of them has a target margin
    assert found["winRate"] == shrunk(5, 5)


async def test_then_the_channel_then_the_region(gateway: Gateway) -> None:
    await refreshed(gateway)
    token = desk(gateway)

    by_region = (await gateway.data_of(GUIDANCE, {"input": ask(channels=("AUDIO",))}, token=token))
    everywhere = (await gateway.data_of(GUIDANCE, {"input": ask(region="EMEA")}, token=token))

    found = by_region["pricingGuidance"]
    assert (found["segment"], found["level"], found["sampleSize"]) == (
        "PREFERRED_DEAL / any channel / NA / any value", 2, 11)
    assert found["cpm"] == {"p25": "16.500100", "p50": "31.000000", "p75": "41.500000"}
    assert found["winRate"] == shrunk(11, 14)
    found = everywhere["pricingGuidance"]
    assert (found["segment"], found["level"], found["sampleSize"]) == (
        "PREFERRED_DEAL / any channel / any region / any value", 3, 12)
    assert found["cpm"] == {"p25": "12.750175", "p50": "30.500000", "p75": "41.250000"}
    assert found["winRate"] == shrunk(12, 15)


async def test_too_few_deals_at_every_level_is_null_with_a_reason(gateway: Gateway) -> None:
    await refreshed(gateway)

    body = await gateway.query(GUIDANCE, {"input": ask(deal_type="MANAGED_SERVICE")}, token=desk(gateway))

    assert body["data"] == {"pricingGuidance": None}  # three won deals: never figures from them
    [error] = body["errors"]
    assert error["extensions"]["code"] == "INSUFFICIENT_DATA" and error["path"] == ["pricingGuidance"]
    assert "Fewer than 5 closed-won deals" in error["message"]


async def test_similar_deals_are_the_closest_in_value_then_the_most_recent(gateway: Gateway) -> None:
    history = await refreshed(gateway)
    ids = history.ids

    found = (await gateway.data_of(GUIDANCE, {"input": ask(value="35000"), "first": 10},
                                   token=desk(gateway)))["pricingGuidance"]

    # 5000 away: a3 and a4 (a4 the more recent), 15000: a2 and a5, 25000: a1 and a6.
    order = ("a4", "a3", "a5", "a2", "a6", "a1")
    assert [deal["id"] for deal in found["similarDeals"]] == [ids[name] for name in order]
    assert found["similarDeals"][0]["owner"]["email"] == "ann@x.test"


async def test_a_seller_gets_the_figures_of_all_deals_but_only_their_own_similar_deals(
        gateway: Gateway) -> None:
    history = await refreshed(gateway)
    token = gateway.token("ann@x.test", "SELLER", region="NA")

    body = await gateway.query(GUIDANCE, {"input": ask(value="35000")}, token=token)

    found = body["data"]["pricingGuidance"]
    assert found["sampleSize"] == 6 and found["cpm"]["p50"] == "16.500100"  # anonymous aggregates
    own = [history.ids[name] for name in ("a4", "a3", "a2", "a1")]
    assert [deal["id"] for deal in found["similarDeals"]] == own
    assert found["marginPct"] is None  # restricted like targetMarginPct
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [
        (["pricingGuidance", "marginPct"], "FORBIDDEN")]


GUIDED_PAGE = DEAL_PAGE.replace("statusHistory {", """pricingGuidance {
    segment level sampleSize winRate cpm { p25 p50 p75 } marginPct { p25 p50 p75 }
    similarDeals { id name owner { id email } advertiser { name } }
  }
  statusHistory {""")


async def test_a_deal_page_asking_for_guidance_runs_one_statement_more(gateway: Gateway) -> None:
    await refreshed(gateway)
    people = cast(gateway.data)
    deal_id = approved_deal(gateway.data, **people)  # PREFERRED_DEAL, DISPLAY first, NA, 250K
    token = gateway.token("desk@x.test", "DEAL_DESK", region="NA")
    await gateway.data_of("{ me { id } }", token=token)

    plain, _ = await gateway.count_statements(DEAL_PAGE, {"id": deal_id}, token=token)
    guided, data = await gateway.count_statements(GUIDED_PAGE, {"id": deal_id}, token=token)

    assert guided == plain + 1
    found = data["deal"]["pricingGuidance"]
    assert (found["level"], found["sampleSize"]) == (1, 6)  # no won DISPLAY deal of 100K-1M in NA
    assert len(found["similarDeals"]) == 5 and found["similarDeals"][0]["owner"]["email"] == "bea@x.test"


async def test_a_deal_is_not_its_own_similar_deal(gateway: Gateway) -> None:
    history = await refreshed(gateway)
    query = "query Own($id: ID!) { deal(id: $id) { pricingGuidance { similarDeals(first: 10) { id } } } }"

    found = (await gateway.data_of(query, {"id": history.ids["a3"]}, token=desk(gateway)))["deal"]

    similar = [deal["id"] for deal in found["pricingGuidance"]["similarDeals"]]
    assert len(similar) == 5 and history.ids["a3"] not in similar


async def test_guidance_without_similar_deals_reads_the_segments_only(gateway: Gateway) -> None:
    await refreshed(gateway)
    query = "query G($input: PricingGuidanceInput!) { pricingGuidance(input: $input) { level sampleSize } }"
    token = desk(gateway)
    await gateway.data_of("{ me { id } }", token=token)

    sent, data = await gateway.count_statements(query, {"input": ask()}, token=token)

    assert data["pricingGuidance"] == {"level": 0, "sampleSize": 6} and sent == 1


@pytest.mark.parametrize("change, field", [
    ({"channels": []}, "input.channels"),
    ({"channels": ["VIDEO", "VIDEO"]}, "input.channels"),
    ({"totalValue": "-1"}, "input.totalValue"),
    ({"currency": "dollars"}, "input.currency"),
])
async def test_a_bad_input_is_refused_naming_the_field(gateway: Gateway, change: dict[str, Any],
                                                       field: str) -> None:
    await refreshed(gateway)

    body = await gateway.query(GUIDANCE, {"input": {**ask(), **change}}, token=desk(gateway))

    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}


async def test_similar_deals_beyond_the_maximum_are_refused(gateway: Gateway) -> None:
    await refreshed(gateway)

    body = await gateway.query(GUIDANCE, {"input": ask(), "first": 51}, token=desk(gateway))

    assert body["data"] == {"pricingGuidance": None}
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]


async def test_a_never_refreshed_store_starts_one_refresh_and_answers_once_done(gateway: Gateway) -> None:
    build_history(gateway.data)
    db = gateway.app.state.db

    first = await gateway.query(GUIDANCE, {"input": ask()}, token=desk(gateway))
    task = pricing_refresh.running(db)
    assert task is not None
    assert await task
    second = await gateway.data_of(GUIDANCE, {"input": ask()}, token=desk(gateway))

    assert [e["extensions"]["code"] for e in first["errors"]] == ["INSUFFICIENT_DATA"]
    assert "not been computed yet" in first["errors"][0]["message"]
    assert second["pricingGuidance"]["sampleSize"] == 6
    await gateway.data_of(GUIDANCE, {"input": ask()}, token=desk(gateway))
    assert pricing_refresh.running(db) is task  # fresh now: no second refresh


async def test_the_clock_lets_one_of_two_workers_refresh(gateway: Gateway, settings: Settings) -> None:
    build_history(gateway.data)
    workers = [Database(settings.database_url, settings) for _ in range(2)]  # two processes' stores
    try:
        written = await asyncio.gather(*(pricing_refresh.refresh(db, refresh_s=600) for db in workers))
        again = await pricing_refresh.refresh(workers[0], refresh_s=600)
        forced = await pricing_refresh.refresh(workers[1], refresh_s=None)
    finally:
        for db in workers:
            db.dispose()

    assert sorted(written, key=lambda n: n is None) == [written[0] or written[1], None]
    assert again is None and forced == (written[0] or written[1])


async def test_a_refresh_rewrites_the_figures_from_the_deals_now(gateway: Gateway) -> None:
    history = await refreshed(gateway)
    closed_deal(gateway.data, history.bea, gateway.data.advertiser("Beta"), "45000", "100", margin="50")
    before = (await gateway.data_of(GUIDANCE, {"input": ask()}, token=desk(gateway)))["pricingGuidance"]

    await pricing_refresh.refresh(gateway.app.state.db, refresh_s=None)
    after = (await gateway.data_of(GUIDANCE, {"input": ask()}, token=desk(gateway)))["pricingGuidance"]

    assert (before["sampleSize"], after["sampleSize"]) == (6, 7)
    assert after["cpm"]["p75"] == "30.500000"  # 10 12.0001 13.0002 20 30 31 100: position 5.5


def test_value_bands_follow_the_product_bounds() -> None:
    bands = [pricing.band_of(Decimal(v)) for v in ("99999.99", "100000", "999999.99", "1000000", "4999999.99",
                                                    "5000000")]
    assert bands == ["UNDER_100K", "100K_1M", "100K_1M", "1M_5M", "1M_5M", "OVER_5M"]


def test_the_refresh_clock_is_stale_after_the_interval() -> None:
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    assert pricing_refresh.is_stale(None, now=now, refresh_s=600)
    assert not pricing_refresh.is_stale(now - dt.timedelta(seconds=599), now=now, refresh_s=600)
    assert pricing_refresh.is_stale(now - dt.timedelta(seconds=600), now=now, refresh_s=600)


async def test_the_insights_refresh_command_computes_the_figures_now(gateway: Gateway,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from gateway.ops.cli import cli

    build_history(gateway.data)
    monkeypatch.setenv("DEAL_DESK_DATABASE_URL", gateway.settings.database_url)

    result = await asyncio.to_thread(CliRunner().invoke, cli, ["insights", "refresh"])

    assert result.exit_code == 0, result.output
    assert result.output.startswith("pricing guidance refreshed: ")
    found = (await gateway.data_of(GUIDANCE, {"input": ask()}, token=desk(gateway)))["pricingGuidance"]
    assert found["sampleSize"] == 6
