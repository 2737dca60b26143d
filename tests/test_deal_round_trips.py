"""The deal page waits for the store as few times as its data allows: approvals and actions come together."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Engine, event

from tests.support.gateway import Gateway
from tests.test_deal import DEAL_PAGE, approved_deal, cast

APPROVAL_QUEUE = """
query Queue { myApprovalQueue(first: 5) { edges { node { id actions { action actor { email } } } } } }
"""


@contextmanager
def must_meet(engine: Engine, *tables: str) -> Iterator[list[str]]:
    """Holds each SELECT from one of `tables` until one from each has started: they must run at once."""
    barrier, met = threading.Barrier(len(tables), timeout=5), []

    def hold(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        table = next((t for t in tables if f"FROM {t} " in statement), None)
        if table is not None:
            barrier.wait()  # BrokenBarrierError (the request fails) when the other never comes
            met.append(table)

    event.listen(engine, "before_cursor_execute", hold)
    try:
        yield met
    finally:
        event.remove(engine, "before_cursor_execute", hold)


async def test_approvals_and_their_actions_are_read_in_one_round_trip(gateway: Gateway) -> None:
    if gateway.app.state.db.lookups_in_place:
        pytest.skip("SQLite runs lookups in place: there are no round trips to overlap")
    people = cast(gateway.data)
    deal_id = approved_deal(gateway.data, **people)
    token = gateway.token("desk@x.test", "DEAL_DESK", region="NA")
    await gateway.data_of("{ me { id } }", token=token)

    with must_meet(gateway.app.state.db.engine, "deal_approvals", "approval_actions") as met:
        deal = (await gateway.data_of(DEAL_PAGE, {"id": deal_id}, token=token))["deal"]

    assert sorted(met) == ["approval_actions", "deal_approvals"]
    assert [[a["action"] for a in approval["actions"]] for approval in deal["approvals"]] == [
        ["COMMENT", "APPROVE"], ["APPROVE"]]


async def test_approvals_read_without_their_deal_load_their_actions_by_approval(gateway: Gateway) -> None:
    owner = gateway.data.user("seller@x.test", "SELLER", region="NA")
    gateway.data.user("desk@x.test", "DEAL_DESK", region="NA")
    advertiser = gateway.data.advertiser("Acme")
    deal = gateway.data.deal(owner=owner, advertiser=advertiser, status="PENDING_APPROVAL")
    approval = gateway.data.approval(deal, "DEAL_DESK", 1, "PENDING", activated_at=gateway.data.tick())
    gateway.data.action(approval, deal, owner, "COMMENT", "please")
    token = gateway.token("desk@x.test", "DEAL_DESK", region="NA")

    queue = await gateway.data_of(APPROVAL_QUEUE, token=token)

    [edge] = queue["myApprovalQueue"]["edges"]
    assert edge["node"]["actions"] == [{"action": "COMMENT", "actor": {"email": "seller@x.test"}}]
