"""Real parallel requests against uvicorn: compare-and-set versions, one decision, distinct deal numbers."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx
from sqlalchemy import func, select

from gateway.core.tables import approval_actions, audit_log
from gateway.store import journal
from tests.support.gateway import Gateway
from tests.support.server import live_server
from tests.support.stores import WITH_JOURNAL
from tests.support.workflow import CREATE, DECIDE, UPDATE, Workflow

STORE_KINDS = WITH_JOURNAL  # also on journaled writes (tests/conftest.py)

__all__ = ["live_server"]  # the fixture, used by name below

N = 10


async def post_all(base_url: str, calls: list[tuple[str, dict[str, Any], str]]) -> list[dict[str, Any]]:
    """POST every (document, variables, token) at once; the JSON bodies in call order."""
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        responses = await asyncio.gather(*(
            client.post("/graphql", json={"query": document, "variables": variables},
                        headers={"authorization": f"Bearer {token}"})
            for document, variables, token in calls))
    assert all(response.status_code == 200 for response in responses), [r.text for r in responses]
    return [response.json() for response in responses]


def outcomes(bodies: list[dict[str, Any]]) -> Counter[str]:
    """How many requests succeeded ("ok") and how many failed with each code."""
    return Counter("ok" if "errors" not in body else body["errors"][0]["extensions"]["code"]
                   for body in bodies)


def scalar(flow: Workflow, stmt: Any) -> int:
    """One number read from the store."""
    with flow.engine.connect() as connection:
        return int(connection.execute(stmt).scalar_one())


async def test_concurrent_updates_with_one_version_give_one_success(gateway: Gateway,
                                                                     live_server: str) -> None:
    flow = await Workflow(gateway).meet()
    deal = await flow.create()
    calls = [(UPDATE, {"id": deal["id"], "v": 1, "input": {"name": f"Name {n}"}}, flow.tokens["seller"])
             for n in range(N)]

    bodies = await post_all(live_server, calls)

    assert outcomes(bodies) == Counter({"ok": 1, "CONFLICT": N - 1})
    [winner] = [body["data"]["updateDeal"] for body in bodies if "errors" not in body]
    read = await flow.read(deal["id"])
    assert (read["version"], read["name"]) == (2, winner["name"])
    updates = select(func.count()).select_from(audit_log).where(  # the losers' journals, if any, ABORTED
        audit_log.c.row_id == deal["id"], audit_log.c.operation == "UPDATE",
        journal.committed(audit_log.c.operation_id))
    assert scalar(flow, updates) == 1


async def test_concurrent_decisions_on_one_approval_give_one_decision(gateway: Gateway,
                                                                      live_server: str) -> None:
    flow = await Workflow(gateway).meet()
    managers = [gateway.token(f"m{n}@x.test", "SALES_MANAGER", region="NA") for n in range(N)]
    for token in managers:
        await gateway.data_of("{ me { id } }", token=token)
    deal = await flow.submit(await flow.create())
    approval = deal["approvals"][0]["id"]
    decisions = ["APPROVE", "REJECT", "REQUEST_CHANGES"]
    calls = [(DECIDE, {"id": approval, "decision": decisions[n % 3]}, token)
             for n, token in enumerate(managers)]

    bodies = await post_all(live_server, calls)

    assert outcomes(bodies) == Counter({"ok": 1, "CONFLICT": N - 1})
    [winner] = [n for n, body in enumerate(bodies) if "errors" not in body]
    actions = (select(func.count()).select_from(approval_actions)
               .where(approval_actions.c.approval_id == approval))
    assert scalar(flow, actions) == 1
    read = await flow.read(deal["id"])
    assert read["approvals"][0]["decidedBy"] == {"email": f"m{winner}@x.test"}
    expected = {"APPROVE": ("PENDING_APPROVAL", 2), "REJECT": ("REJECTED", 3),
                "REQUEST_CHANGES": ("CHANGES_REQUESTED", 3)}[decisions[winner % 3]]
    assert (read["status"], read["version"]) == expected


async def test_concurrent_creates_get_distinct_deal_numbers(gateway: Gateway, live_server: str) -> None:
    flow = await Workflow(gateway).meet()
    calls = [(CREATE, {"input": flow.deal_input(name=f"Deal {n}")}, flow.tokens["seller"]) for n in range(N)]

    bodies = await post_all(live_server, calls)

    assert outcomes(bodies) == Counter({"ok": N})
    numbers = sorted(body["data"]["createDeal"]["dealNumber"] for body in bodies)
    assert len(set(numbers)) == N
    assert [int(number.rsplit("-", 1)[1]) for number in numbers] == list(range(1, N + 1))
