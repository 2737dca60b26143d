"""Drives the deal workflow through GraphQL: documents, a cast of users with tokens, store snapshots."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, func, select

from gateway.app import create_app
from gateway.core.settings import Settings
from gateway.core.tables import audit_log, metadata, users
from gateway.store.migrate import migrate
from tests.support.audit import SIGN_INS
from tests.support.gateway import Gateway

# Fields every role that sees a deal may read (no margins, no incentives).
BASIC = """
fragment Basic on Deal {
  id dealNumber name status version region currency totalValue startDate endDate channels dealType
  nonStandardTerms notes submittedAt owner { email }
  tiers { tierNumber minSpend maxSpend cpm }
  approvals { id stage sequence step status dueAt decidedAt decidedBy { email }
              actions { action comment actor { email } } }
  statusHistory { fromStatus toStatus reason changedBy { email } }
}
"""
FULL = BASIC + """
fragment Full on Deal {
  ...Basic targetMarginPct floorCpm createdAt updatedAt
  agency { name } advertiser { name } scopingRequest { id status }
  tiers { tierNumber minSpend maxSpend cpm marginPct }
  incentives { type unit value description }
}
"""
READ = FULL + "query Read($id: ID!) { deal(id: $id) { ...Full } }"
CREATE = BASIC + "mutation Create($input: CreateDealInput!) { createDeal(input: $input) { ...Basic } }"
UPDATE = BASIC + """
mutation Update($id: ID!, $v: Int!, $input: UpdateDealInput!) {
  updateDeal(id: $id, expectedVersion: $v, input: $input) { ...Basic }
}"""
SET_TIERS = BASIC + """
mutation Tiers($id: ID!, $v: Int!, $tiers: [DealTierInput!]!) {
  setDealTiers(dealId: $id, expectedVersion: $v, tiers: $tiers) { ...Basic }
}"""
SET_INCENTIVES = BASIC + """
mutation Incentives($id: ID!, $v: Int!, $incentives: [IncentiveInput!]!) {
  setDealIncentives(dealId: $id, expectedVersion: $v, incentives: $incentives) { ...Basic }
}"""
SUBMIT = BASIC + """
mutation Submit($id: ID!, $v: Int!) { submitDeal(id: $id, expectedVersion: $v) { ...Basic } }"""
DECIDE = BASIC + """
mutation Decide($id: ID!, $decision: ApprovalDecision!, $comment: String) {
  decideApproval(approvalId: $id, decision: $decision, comment: $comment) { ...Basic }
}"""
COMMENT = """
mutation Comment($id: ID!, $comment: String!) {
  commentOnApproval(approvalId: $id, comment: $comment) { id action comment createdAt actor { email } }
}"""
WITHDRAW = BASIC + """
mutation Withdraw($id: ID!, $v: Int!, $reason: String!) {
  withdrawDeal(id: $id, expectedVersion: $v, reason: $reason) { ...Basic }
}"""
CLOSE = BASIC + """
mutation Close($id: ID!, $v: Int!, $won: Boolean!, $reason: String) {
  closeDeal(id: $id, expectedVersion: $v, won: $won, reason: $reason) { ...Basic }
}"""
CONVERT = BASIC + "mutation Convert($id: ID!) { convertScopingRequest(id: $id) { ...Basic } }"

# name -> (email, roles, region)
CAST: dict[str, tuple[str, tuple[str, ...], str | None]] = {
    "seller": ("seller@x.test", ("SELLER",), "NA"),
    "other": ("other@x.test", ("SELLER",), "NA"),
    "manager": ("manager@x.test", ("SALES_MANAGER",), "NA"),
    "emea_manager": ("emea.manager@x.test", ("SALES_MANAGER",), "EMEA"),
    "boss": ("boss@x.test", ("SELLER", "SALES_MANAGER", "DEAL_DESK", "FINANCE"), "NA"),
    "desk": ("desk@x.test", ("DEAL_DESK",), "NA"),
    "finance": ("finance@x.test", ("FINANCE",), None),
    "legal": ("legal@x.test", ("LEGAL",), None),
    "executive": ("exec@x.test", ("EXECUTIVE",), None),
    "analyst": ("analyst@x.test", ("ANALYST",), None),
    "admin": ("admin@x.test", ("ADMIN",), None),
}


class Workflow:
    """The cast's tokens, an advertiser and an agency, and calls that check their outcome."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway, self.engine = gateway, gateway.data.engine
        self.tokens = {name: gateway.token(email, *roles, region=region)
                       for name, (email, roles, region) in CAST.items()}
        self.advertiser = gateway.data.advertiser("Acme")
        self.agency = gateway.data.agency("Zenith")

    async def meet(self) -> Workflow:
        """Make every cast member known (their users rows), so later counts only see the workflow."""
        for token in self.tokens.values():
            await self.gateway.data_of("{ me { id } }", token=token)
        return self

    def user_id(self, name: str) -> str:
        """The users-row id of a cast member (known after `meet`)."""
        email = CAST[name][0]
        with self.engine.connect() as connection:
            return str(connection.execute(select(users.c.id).where(users.c.email == email)).scalar_one())

    def deal_input(self, **changes: Any) -> dict[str, Any]:
        """A valid CreateDealInput of a 1.2M deal (chain SALES_MANAGER, DEAL_DESK, FINANCE)."""
        return {
            "name": "Acme Q3 CTV", "advertiserId": self.advertiser, "agencyId": self.agency,
            "dealType": "PROGRAMMATIC_GUARANTEED", "channels": ["CTV", "VIDEO"], "currency": "USD",
            "totalValue": "1200000.00", "startDate": "2026-07-01", "endDate": "2026-09-30",
            "targetMarginPct": "35", "floorCpm": "12.50", "notes": "First draft",
            "tiers": [{"minSpend": "0", "maxSpend": "500000", "cpm": "14.00", "marginPct": "38"},
                      {"minSpend": "500000", "cpm": "12.50", "marginPct": "32"}],
            "incentives": [{"type": "AGENCY_REBATE", "unit": "PERCENT", "value": "3.5",
                            "description": "Q3 rebate"},
                           {"type": "ADDED_VALUE", "unit": "IMPRESSIONS", "value": "500000"}],
            **changes,
        }

    async def ok(self, document: str, variables: dict[str, Any], *, who: str) -> Any:
        """The single root field's value of a request that must succeed."""
        data = await self.gateway.data_of(document, variables, token=self.tokens[who])
        [value] = data.values()
        return value

    async def fail(self, document: str, variables: dict[str, Any], *, who: str) -> tuple[str, str | None]:
        """(code, field) of a request that must fail with exactly one error and no data."""
        body = await self.gateway.query(document, variables, token=self.tokens[who])
        assert body.get("data") is None, body
        [error] = body["errors"]
        extensions: dict[str, Any] = error.get("extensions") or {}
        return str(extensions.get("code")), extensions.get("field")

    async def create(self, *, who: str = "seller", **changes: Any) -> dict[str, Any]:
        """A new DRAFT deal."""
        deal: dict[str, Any] = await self.ok(CREATE, {"input": self.deal_input(**changes)}, who=who)
        return deal

    async def read(self, deal_id: str) -> dict[str, Any]:
        """The deal with every field, as an admin sees it."""
        deal: dict[str, Any] = await self.ok(READ, {"id": deal_id}, who="admin")
        return deal

    async def submit(self, deal: dict[str, Any], *, who: str = "seller") -> dict[str, Any]:
        """The deal submitted."""
        submitted: dict[str, Any] = await self.ok(SUBMIT, {"id": deal["id"], "v": deal["version"]}, who=who)
        return submitted

    async def decide(self, approval_id: str, decision: str, *, who: str, comment: str | None = None,
                     ) -> dict[str, Any]:
        """The deal after a decision."""
        variables = {"id": approval_id, "decision": decision, "comment": comment}
        deal: dict[str, Any] = await self.ok(DECIDE, variables, who=who)
        return deal


def pending(deal: dict[str, Any]) -> dict[str, Any]:
    """The deal's one PENDING approval."""
    [approval] = [a for a in deal["approvals"] if a["status"] == "PENDING"]
    return approval


def snapshot(engine: Engine) -> dict[str, int]:
    """Row counts of every table of the store."""
    with engine.connect() as connection:
        return {table.name: int(connection.execute(select(func.count()).select_from(table)).scalar_one())
                for table in metadata.sorted_tables}


def operations(engine: Engine) -> list[list[dict[str, Any]]]:
    """The mutations' audit log grouped by operation, oldest first, before/after decoded."""
    stmt = select(audit_log).where(~SIGN_INS).order_by(audit_log.c.occurred_at, audit_log.c.id)
    with engine.connect() as connection:
        rows = [dict(row._mapping) for row in connection.execute(stmt)]
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        for column in ("before_json", "after_json"):
            row[column] = json.loads(row[column]) if row[column] is not None else None
        groups.setdefault(row["operation_id"], []).append(row)
    return list(groups.values())


def changed_tables(operation: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(table, operation) of each audit row of one operation, sorted."""
    return sorted((row["table_name"], row["operation"]) for row in operation)


# The approvals of a deal with what the workflow of steps and carry-overs adds, and the chain preview.
APPROVALS = """
query Approvals($id: ID!) {
  deal(id: $id) {
    id status version submittedAt
    approvals { id stage sequence step status dueAt decidedAt decidedBy { email } carriedOverFrom { id stage }
                actions { action comment actor { email } } }
    statusHistory { fromStatus toStatus reason }
  }
}"""
PREVIEW = """
query Preview($id: ID!) { approvalChainPreview(dealId: $id) { stage step dueInHours carriedOver reasons } }"""
QUEUE = "query Queue { myApprovalQueue(first: 50) { totalCount edges { node { id stage step } } } }"
METRICS = "query Metrics { approvalMetrics { stage pendingCount overdueCount decidedCount } }"


@asynccontextmanager
async def ruled_gateway(settings: Settings, path: Path, rules: str) -> AsyncIterator[Gateway]:
    """The real app over ASGI with the approval rules file `rules` written at `path`, store migrated."""
    path.write_text(rules)
    custom = settings.model_copy(update={"approval_rules_file": str(path)})
    app = create_app(custom)
    migrate(app.state.db.engine)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw.test") as client:
        yield Gateway(app, client, custom)
    app.state.db.dispose()


def in_round(deal: dict[str, Any], number: int) -> list[dict[str, Any]]:
    """The approvals of one round (chain) of the deal: rounds are told apart by their first sequence."""
    rounds: list[list[dict[str, Any]]] = []
    for approval in deal["approvals"]:
        if approval["sequence"] == 1:
            rounds.append([])
        rounds[-1].append(approval)
    return rounds[number - 1]


def hours_between(start: str, end: str) -> float:
    """Hours from one DateTime of the API to another."""
    return (dt.datetime.fromisoformat(end) - dt.datetime.fromisoformat(start)).total_seconds() / 3600
