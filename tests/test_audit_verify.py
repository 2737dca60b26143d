"""`deal-desk audit verify`: seeded and API-made deals are explained; SQL behind the gateway's back is not."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, exists, select, update
from typer.testing import CliRunner

from gateway.core.settings import Settings
from gateway.core.tables import approval_actions, deal_approvals, deals
from gateway.ops.cli import cli
from gateway.ops.seed import seed
from gateway.ops.verify import verify
from tests.support.data import Data
from tests.support.gateway import Gateway
from tests.support.stores import WITH_JOURNAL

STORE_KINDS = WITH_JOURNAL  # also on journaled writes (tests/conftest.py)

CREATE_DEAL = """
mutation Create($input: CreateDealInput!) { createDeal(input: $input) { id version } }
"""
SUBMIT = """
mutation Submit($id: ID!, $v: Int!) { submitDeal(id: $id, expectedVersion: $v) { approvals { id } } }
"""
DECIDE = """
mutation Decide($id: ID!) { decideApproval(approvalId: $id, decision: APPROVE) { status version } }
"""


def first_deal(engine: Engine) -> tuple[str, str]:
    """The id and number of the deal with the smallest id."""
    with engine.connect() as connection:
        row = connection.execute(select(deals.c.id, deals.c.deal_number).order_by(deals.c.id).limit(1)).one()
    return row.id, row.deal_number


def run_verify(settings: Settings, monkeypatch: pytest.MonkeyPatch, *args: str) -> Any:
    """`deal-desk audit verify` on the test's store."""
    monkeypatch.setenv("DEAL_DESK_DATABASE_URL", settings.database_url)
    return CliRunner().invoke(cli, ["audit", "verify", *args], env={"COLUMNS": "200"})


@pytest.fixture
def seeded(gateway: Gateway) -> Engine:
    """The gateway's store, seeded with a month of demo data."""
    seed(gateway.data.engine, scale=1, progress=False)
    return gateway.data.engine


def test_the_seeded_store_is_explained(seeded: Engine, settings: Settings,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    report = verify(seeded)
    assert report.ok, dict(report.problems)
    assert report.deals > 900 and report.children["deal_status_history"] >= report.deals
    result = run_verify(settings, monkeypatch)
    assert result.exit_code == 0, result.output
    assert "Every deal is explained" in result.output


def test_a_deal_changed_by_sql_is_named(seeded: Engine, settings: Settings,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    deal_id, number = first_deal(seeded)
    with seeded.begin() as connection:
        connection.execute(update(deals).where(deals.c.id == deal_id).values(name="Renamed behind its back"))

    report = verify(seeded)
    assert list(report.problems) == [deal_id]
    assert report.problems[deal_id] == ["differs from its latest audit record in name"]
    result = run_verify(settings, monkeypatch)
    assert result.exit_code == 1
    assert deal_id in result.output and number in result.output


def test_a_status_set_by_sql_contradicts_the_history(seeded: Engine) -> None:
    deal_id, _ = first_deal(seeded)
    with seeded.begin() as connection:
        status = connection.execute(select(deals.c.status).where(deals.c.id == deal_id)).scalar_one()
        other = "CLOSED_LOST" if status != "CLOSED_LOST" else "CLOSED_WON"
        connection.execute(update(deals).where(deals.c.id == deal_id).values(status=other))

    assert any(f"status {other} but its history ends in {status}" == reason
               for reason in verify(seeded).problems[deal_id])


def test_unaudited_and_vanished_children_are_found(seeded: Engine) -> None:
    deal_id, _ = first_deal(seeded)
    with seeded.connect() as connection:
        owner = connection.execute(select(deals.c.owner_id).where(deals.c.id == deal_id)).scalar_one()
        quiet = (select(deal_approvals.c.id, deal_approvals.c.deal_id)
                 .where(deal_approvals.c.deal_id != deal_id, deal_approvals.c.status == "CANCELLED",
                        ~exists().where(approval_actions.c.approval_id == deal_approvals.c.id)).limit(1))
        approval = connection.execute(quiet).one()
    Data(seeded).change(deal_id, owner, "DRAFT")  # dated long before the deal's last change
    with seeded.begin() as connection:
        connection.execute(deal_approvals.delete().where(deal_approvals.c.id == approval.id))

    problems = verify(seeded).problems
    assert problems == {
        deal_id: ["1 deal_status_history row(s) without an INSERT audit record"],
        approval.deal_id: ["1 deal_approvals row(s) deleted without an audit record"],
    }


async def test_a_deal_made_through_the_api_is_explained(gateway: Gateway) -> None:
    gateway.data.user("ann@x.test", "SELLER", region="NA")
    gateway.data.user("max@x.test", "SALES_MANAGER", region="NA")
    seller = gateway.token("ann@x.test", "SELLER", region="NA")
    manager = gateway.token("max@x.test", "SALES_MANAGER", region="NA")
    deal_input = {
        "name": "Acme Q3", "advertiserId": gateway.data.advertiser("Acme"), "dealType": "PREFERRED_DEAL",
        "channels": ["DISPLAY"], "totalValue": "50000", "startDate": "2026-07-01", "endDate": "2026-09-30",
        "targetMarginPct": "35", "tiers": [{"minSpend": "0", "cpm": "4.5", "marginPct": "35"}],
        "incentives": [{"type": "AGENCY_REBATE", "unit": "PERCENT", "value": "2"}],
    }
    made = (await gateway.data_of(CREATE_DEAL, {"input": deal_input}, token=seller))["createDeal"]
    submitted = await gateway.data_of(SUBMIT, {"id": made["id"], "v": made["version"]}, token=seller)
    [approval] = submitted["submitDeal"]["approvals"]
    decided = await gateway.data_of(DECIDE, {"id": approval["id"]}, token=manager)

    assert decided["decideApproval"]["status"] == "APPROVED"
    report = verify(gateway.data.engine)
    assert report.ok, dict(report.problems)
    assert report.deals == 1 and report.children == {"deal_approvals": 1, "deal_status_history": 3}


def test_repair_says_what_it_does(settings: Settings, gateway: Gateway,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    result = run_verify(settings, monkeypatch, "--repair")
    assert result.exit_code == 0, result.output
    assert "Nothing to repair" in result.output
