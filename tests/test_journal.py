"""Journaled writes (Databricks has no multi-statement transactions): a failure at any statement of a
mutation loses no change and leaves none unaudited, once `audit verify --repair` has run.

The store is SQLite with DEAL_DESK_WRITE_MODE=journal: every statement commits on its own, as on a
warehouse. A crash is the n-th statement of the journal's flush failing, after which nothing more of
the operation runs, for every n until the mutation gets through.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select
from typer.testing import CliRunner

from gateway.core.settings import Settings
from gateway.core.tables import audit_log, metadata, write_operations
from gateway.ops.cli import cli
from gateway.ops.repair import repair
from gateway.ops.verify import verify
from gateway.store.images import comparable
from tests.support.gateway import Gateway
from tests.support.stores import JOURNAL
from tests.support.workflow import (
    COMMENT,
    CREATE,
    DECIDE,
    SET_TIERS,
    SUBMIT,
    UPDATE,
    WITHDRAW,
    Workflow,
    pending,
)

STORE_KINDS = [JOURNAL]
BOOKKEEPING = {"audit_log", "write_operations", "deal_number_counters", "idempotency_keys", "schema_version",
               "persisted_queries", "pricing_segments"}
MAX_STATEMENTS = 30

Mutation = tuple[str, dict[str, Any], str]
Setup = Callable[[Workflow], Awaitable[Mutation]]


class Crash:
    """Fails the n-th statement of the next journal flush, as if the process had died there."""

    def __init__(self, engine: Engine) -> None:
        self.at: int | None = None
        self.seen, self.flushing, self.hit = 0, False, False
        event.listen(engine, "before_cursor_execute", self._before, retval=True)

    def arm(self, at: int) -> None:
        """Fail statement `at` (0: the PENDING marker) of the next flush."""
        self.at, self.seen, self.flushing, self.hit = at, 0, False, False

    def _before(self, _conn: Any, _cursor: Any, statement: str, parameters: Any, *_rest: Any) -> Any:
        if self.at is None:
            return statement, parameters
        marker = statement.startswith("INSERT INTO write_operations")
        self.flushing = self.flushing or marker
        if self.flushing and self.seen == self.at:
            self.at, self.hit = None, True
            return "SELECT deal_desk_crashed_here()", ()
        if self.flushing:
            self.seen += 1
        if marker and "PENDING" not in parameters:  # the end marker: the flush is over
            self.at = None
        return statement, parameters


async def create(flow: Workflow) -> Mutation:
    """createDeal: inserts only (deal, history, tiers, incentives)."""
    return CREATE, {"input": flow.deal_input()}, "seller"


async def update(flow: Workflow) -> Mutation:
    """updateDeal: one versioned UPDATE."""
    deal = await flow.create()
    return UPDATE, {"id": deal["id"], "v": 1, "input": {"name": "Renamed"}}, "seller"


async def set_tiers(flow: Workflow) -> Mutation:
    """setDealTiers: the version bump, two deletes, three inserts."""
    deal = await flow.create()
    tiers = [{"minSpend": str(n * 1000), "maxSpend": str(n * 1000 + 1000), "cpm": "10", "marginPct": "40"}
             for n in range(3)]
    return SET_TIERS, {"id": deal["id"], "v": 1, "tiers": tiers}, "seller"


async def submit(flow: Workflow) -> Mutation:
    """submitDeal: the status change, its history row and a chain of three approvals."""
    deal = await flow.create()
    return SUBMIT, {"id": deal["id"], "v": 1}, "seller"


async def approve_first(flow: Workflow) -> Mutation:
    """decideApproval on a stage with one after it: the deal is only claimed, not changed."""
    deal = await flow.submit(await flow.create())
    return DECIDE, {"id": pending(deal)["id"], "decision": "APPROVE"}, "manager"


async def approve_last(flow: Workflow) -> Mutation:
    """decideApproval on the last stage: the deal becomes APPROVED."""
    deal = await flow.submit(await flow.create())
    deal = await flow.decide(pending(deal)["id"], "APPROVE", who="manager")
    deal = await flow.decide(pending(deal)["id"], "APPROVE", who="desk")
    return DECIDE, {"id": pending(deal)["id"], "decision": "APPROVE"}, "finance"


async def withdraw(flow: Workflow) -> Mutation:
    """withdrawDeal: the status change and the cancelled approvals."""
    deal = await flow.submit(await flow.create())
    return WITHDRAW, {"id": deal["id"], "v": deal["version"], "reason": "Budget cut"}, "seller"


async def comment(flow: Workflow) -> Mutation:
    """commentOnApproval: one insert, no deal claimed."""
    deal = await flow.submit(await flow.create())
    return COMMENT, {"id": pending(deal)["id"], "comment": "Looks fine"}, "manager"


SCENARIOS = [create, update, set_tiers, submit, approve_first, approve_last, withdraw, comment]


def business_rows(engine: Engine) -> dict[tuple[str, str], dict[str, Any]]:
    """Every row of the business tables, by (table, id), compared as the columns mean them."""
    found = {}
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            if table.name in BOOKKEEPING:
                continue
            for row in connection.execute(select(table)):
                found[(table.name, row.id)] = normalized(table.name, dict(row._mapping))
    return found


def normalized(table_name: str, image: dict[str, Any]) -> dict[str, Any]:
    """An image (Python values or their audit JSON) as comparable values."""
    table = metadata.tables[table_name]
    plain = json.loads(json.dumps(image, default=str))
    return {column.name: comparable(column, plain.get(column.name)) for column in table.columns}


def replayed(before: dict[tuple[str, str], dict[str, Any]], engine: Engine,
             operation_id: str) -> dict[tuple[str, str], dict[str, Any]]:
    """`before` with the audited changes of one operation applied."""
    expected = dict(before)
    stmt = select(audit_log).where(audit_log.c.operation_id == operation_id).order_by(audit_log.c.id)
    with engine.connect() as connection:
        for row in connection.execute(stmt):
            key = (row.table_name, row.row_id)
            if row.after_json is None:
                expected.pop(key, None)
            else:
                expected[key] = normalized(row.table_name, json.loads(row.after_json))
    return expected


def last_operation(engine: Engine) -> str | None:
    """The operation id of the newest PENDING marker."""
    w = write_operations
    with engine.connect() as connection:
        return connection.execute(select(w.c.operation_id).where(w.c.state == "PENDING")
                                  .order_by(w.c.recorded_at.desc()).limit(1)).scalar()


async def crash_at(gateway: Gateway, flow: Workflow, crash: Crash, setup: Setup, at: int) -> bool:
    """Run the mutation failing at flush statement `at`; False when the flush had fewer statements."""
    document, variables, who = await setup(flow)
    before, previous = business_rows(flow.engine), last_operation(flow.engine)
    crash.arm(at)
    body = (await gateway.post(document, variables, token=flow.tokens[who])).json()
    if not crash.hit:
        assert "errors" not in body, body
        return False
    assert body["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE", body
    operation_id = last_operation(flow.engine)
    outcome = repair(flow.engine, older_than=dt.timedelta(0))
    if at == 0:  # not even PENDING was written: there is nothing to repair, and nothing changed
        assert operation_id == previous and outcome.summary().startswith("Nothing to repair")
        assert business_rows(flow.engine) == before
        return True
    assert operation_id is not None and operation_id != previous
    anchored = at > 2  # marker, audit rows (one statement), anchor: a crash after the anchor completes
    settled = ([operation_id], []) if anchored else ([], [operation_id])
    assert (outcome.completed, outcome.aborted) == settled
    expected = replayed(before, flow.engine, operation_id) if anchored else before
    assert business_rows(flow.engine) == expected
    return True


@pytest.mark.parametrize("setup", SCENARIOS, ids=lambda setup: setup.__name__)
async def test_a_crash_at_any_statement_is_repaired_to_all_or_nothing(gateway: Gateway, setup: Setup) -> None:
    flow = await Workflow(gateway).meet()
    crash = Crash(flow.engine)
    crashes = 0
    while await crash_at(gateway, flow, crash, setup, crashes):
        crashes += 1
        assert crashes < MAX_STATEMENTS
    assert crashes >= 4  # marker, audit, anchor, marker at least
    report = verify(flow.engine)
    assert report.ok, (dict(report.problems), report.unfinished)


async def test_the_flush_writes_marker_audit_anchor_changes_marker_in_that_order(gateway: Gateway) -> None:
    flow = await Workflow(gateway).meet()
    document, variables, who = await submit(flow)
    sent: list[str] = []
    event.listen(flow.engine, "before_cursor_execute", lambda *args: sent.append(args[2]))
    await flow.ok(document, variables, who=who)

    markers = [i for i, sql in enumerate(sent) if sql.startswith("INSERT INTO write_operations")]
    flush = sent[markers[0]:markers[-1] + 1]
    kinds = [" ".join(sql.split()[:3]) for sql in flush]
    assert kinds[:3] == ["INSERT INTO write_operations", "INSERT INTO audit_log", "UPDATE deals SET"]
    assert "deals.version = ?" in flush[2] and "deals.last_operation_id IS NULL" in flush[2]
    assert kinds[-1] == "INSERT INTO write_operations"
    assert kinds.count("INSERT INTO deal_approvals") == 1  # the three approvals in one statement


async def test_an_unfinished_change_blocks_the_deal_until_repaired(gateway: Gateway) -> None:
    flow = await Workflow(gateway).meet()
    crash = Crash(flow.engine)
    deal = await flow.create()
    crash.arm(3)  # the end marker: the deal is claimed, the operation never ends
    half = {"id": deal["id"], "v": 1, "input": {"name": "Half"}}
    await gateway.post(UPDATE, half, token=flow.tokens["seller"])
    assert crash.hit

    code, field = await flow.fail(UPDATE, {"id": deal["id"], "v": 2, "input": {"name": "Next"}}, who="seller")
    assert (code, field) == ("CONFLICT", "id")
    assert repair(flow.engine).summary().startswith("Nothing to repair")  # too young to touch by default

    repair(flow.engine, older_than=dt.timedelta(0))
    renamed = await flow.ok(UPDATE, {"id": deal["id"], "v": 2, "input": {"name": "Next"}}, who="seller")
    assert (renamed["name"], renamed["version"]) == ("Next", 3)


async def test_a_stale_version_writes_nothing_at_all(gateway: Gateway) -> None:
    flow = await Workflow(gateway).meet()
    deal = await flow.create()
    counts = journal_counts(flow.engine)
    stale = {"id": deal["id"], "v": 7, "input": {"name": "Stale"}}
    code, field = await flow.fail(UPDATE, stale, who="seller")
    assert (code, field) == ("CONFLICT", "expectedVersion")
    assert journal_counts(flow.engine) == counts


def journal_counts(engine: Engine) -> tuple[int, int]:
    """Rows of audit_log and write_operations."""
    with engine.connect() as connection:
        return tuple(int(connection.execute(select(func.count()).select_from(t)).scalar_one())  # type: ignore[return-value]
                     for t in (audit_log, write_operations))


async def test_the_cli_repairs_then_verifies(gateway: Gateway, settings: Settings,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    flow = await Workflow(gateway).meet()
    crash = Crash(flow.engine)
    document, variables, who = await submit(flow)
    crash.arm(3)
    await gateway.post(document, variables, token=flow.tokens[who])
    monkeypatch.setenv("DEAL_DESK_DATABASE_URL", settings.database_url)

    before = CliRunner().invoke(cli, ["audit", "verify"])
    assert before.exit_code == 1 and "unfinished write operations" in before.output
    repaired = CliRunner().invoke(cli, ["audit", "verify", "--repair", "--older-than", "0"])
    assert repaired.exit_code == 0, repaired.output
    assert "Repaired 1 unfinished write operation(s): 1 completed, 0 aborted." in repaired.output
