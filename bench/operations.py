"""The benchmarked GraphQL operations: realistic documents, who sends them and what each request needs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Variables = dict[str, Any]

DEAL_PAGE = """
query DealPage($id: ID!) {
  deal(id: $id) {
    id dealNumber name status dealType channels region currency totalValue startDate endDate
    targetMarginPct floorCpm nonStandardTerms notes version createdAt updatedAt submittedAt
    owner { id email displayName region roles }
    advertiser { id name industry region }
    agency { id name holdingCompany region }
    scopingRequest { id title status estimatedBudget currency requestedBy { id displayName } }
    tiers { id tierNumber minSpend maxSpend cpm marginPct }
    incentives { id type unit value description }
    approvals {
      id stage sequence status dueAt decidedAt decidedBy { id displayName }
      actions { id action comment createdAt actor { id displayName } }
    }
    statusHistory { id fromStatus toStatus reason changedAt changedBy { id displayName } }
  }
}
"""

GUIDANCE = """    pricingGuidance {
      segment level sampleSize winRate cpm { p25 p50 p75 } marginPct { p25 p50 p75 }
      similarDeals { id dealNumber name totalValue status owner { id displayName } }
    }
"""
DEAL_PAGE_GUIDED = DEAL_PAGE.replace("    statusHistory {", GUIDANCE + "    statusHistory {")

DEAL_LIST = """
query PipelineList($first: Int!, $after: String) {
  deals(first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node {
      id dealNumber name status dealType region currency totalValue startDate endDate createdAt updatedAt
      owner { id displayName }
      advertiser { id name }
      agency { id name }
      approvals { id stage status }
    } }
  }
}
"""

APPROVAL_QUEUE = """
query MyApprovalQueue($first: Int!) {
  myApprovalQueue(first: $first) {
    totalCount
    edges { node {
      id stage status dueAt
      deal { id dealNumber name status totalValue currency region owner { displayName }
             advertiser { name } agency { name } }
    } }
  }
}
"""

PIPELINE_BY_MONTH = "query Pipeline { pipeline(groupBy: MONTH) { key dealCount totalValue } }"

APPROVAL_METRICS = """
query ApprovalMetrics {
  approvalMetrics { stage pendingCount overdueCount decidedCount medianHoursToDecision p90HoursToDecision }
}
"""

DEAL_RESULT = "id dealNumber status version approvals { id stage status decidedBy { displayName } }"
CREATE_DEAL = f"""
mutation CreateDeal($input: CreateDealInput!) {{ createDeal(input: $input) {{ {DEAL_RESULT} }} }}
"""
SUBMIT_DEAL = f"""
mutation SubmitDeal($id: ID!, $version: Int!) {{
  submitDeal(id: $id, expectedVersion: $version) {{ {DEAL_RESULT} }}
}}
"""
DECIDE_APPROVAL = f"""
mutation DecideApproval($id: ID!, $comment: String) {{
  decideApproval(approvalId: $id, decision: APPROVE, comment: $comment) {{ {DEAL_RESULT} }}
}}
"""


@dataclass(frozen=True)
class Ids:
    """Real ids read from the seeded store."""

    deal: str
    advertiser: str
    agency: str
    sample: tuple[str, ...] = ()  # random deals with an agency, for the page as many users see it


@dataclass(frozen=True)
class Operation:
    """One benchmarked request: its document, sender and variables (writes take one input per request)."""

    name: str
    document: str
    user: str  # a key of bench.server.USERS
    variables: Callable[[Ids, Any], Variables]
    needs: str | None = None  # what each request consumes: "draft", "pending" (prepared) or "deals"
    description: str = field(default="", compare=False)

    @property
    def writes(self) -> bool:
        """True for mutations."""
        return self.document.lstrip().startswith("mutation")


def deal_input(ids: Ids, number: int) -> Variables:
    """A createDeal input that only needs the SALES_MANAGER stage (< 100k, margins >= 30%)."""
    start = dt.date(2027, 1, 1) + dt.timedelta(days=number % 200)
    return {"input": {
        "name": f"Bench deal {number}", "advertiserId": ids.advertiser, "agencyId": ids.agency,
        "dealType": "PREFERRED_DEAL", "channels": ["DISPLAY", "VIDEO"], "currency": "USD",
        "totalValue": "50000.00", "startDate": start.isoformat(),
        "endDate": (start + dt.timedelta(days=60)).isoformat(), "targetMarginPct": "35",
        "floorCpm": "4.50", "notes": "Created by the benchmark.",
        "tiers": [{"minSpend": "0", "maxSpend": "25000", "cpm": "12.5", "marginPct": "35"},
                  {"minSpend": "25000", "cpm": "11", "marginPct": "32"}],
        "incentives": [{"type": "AGENCY_REBATE", "unit": "PERCENT", "value": "2.5"}],
    }}


OPERATIONS: dict[str, Operation] = {op.name: op for op in (
    Operation("dealPage", DEAL_PAGE, "desk", lambda ids, _: {"id": ids.deal},
              description="full deal page: tiers, incentives, approvals+actions, history, parties"),
    Operation("dealPageMix", DEAL_PAGE, "desk", lambda ids, deal: {"id": deal}, needs="deals",
              description="the same page, each request for another of 1,000 random deals"),
    Operation("dealPageGuided", DEAL_PAGE_GUIDED, "desk", lambda ids, _: {"id": ids.deal},
              description="the deal page with its pricing guidance and 5 similar deals"),
    Operation("dealPageMixGuided", DEAL_PAGE_GUIDED, "desk", lambda ids, deal: {"id": deal}, needs="deals",
              description="the guided page, each request for another of 1,000 random deals"),
    Operation("dealList50", DEAL_LIST, "desk", lambda ids, _: {"first": 50},
              description="pipeline list, 50 deals with owner, advertiser, agency, approvals"),
    Operation("dealExport500", DEAL_LIST, "desk", lambda ids, _: {"first": 500},
              description="export page, 500 deals of the same shape"),
    Operation("approvalQueue", APPROVAL_QUEUE, "desk", lambda ids, _: {"first": 50},
              description="myApprovalQueue, first 50 with their deals"),
    Operation("pipelineMonth", PIPELINE_BY_MONTH, "admin", lambda ids, _: {},
              description="pipeline(groupBy: MONTH) over every deal"),
    Operation("approvalMetrics", APPROVAL_METRICS, "admin", lambda ids, _: {},
              description="approvalMetrics over all time"),
    Operation("createDeal", CREATE_DEAL, "seller", deal_input,
              description="createDeal with 2 tiers and 1 incentive"),
    Operation("submitDeal", SUBMIT_DEAL, "seller", lambda ids, draft: {"id": draft[0], "version": draft[1]},
              needs="draft", description="submitDeal of a DRAFT deal of the seller"),
    Operation("decideApproval", DECIDE_APPROVAL, "manager",
              lambda ids, approval: {"id": approval, "comment": "Approved by the benchmark."},
              needs="pending", description="decideApproval APPROVE of a PENDING SALES_MANAGER stage"),
)}
