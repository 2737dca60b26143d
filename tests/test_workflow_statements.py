"""The workflow's writes send a fixed number of statements, carry-overs included."""

from __future__ import annotations

from typing import Any

from tests.support.gateway import Gateway
from tests.support.stores import JOURNAL, WITH_JOURNAL
from tests.support.workflow import DECIDE, SUBMIT, UPDATE, Workflow, pending

STORE_KINDS = WITH_JOURNAL  # also on journaled writes (tests/conftest.py)

# Statements per request: submit, approve, request changes, a resubmission carrying two approvals over
# (the first ever also writes the system user), and another one. Before parallel steps the first four
# sent 21, 14, 17 and 21 on SQLite and PostgreSQL.
EXPECTED = {"transactions": (20, 14, 17, 27, 25), JOURNAL: (15, 16, 16, 22, 21)}


async def counted(gateway: Gateway, flow: Workflow, document: str, variables: dict[str, Any],
                  who: str) -> tuple[int, dict[str, Any]]:
    """Statements one request sent, and its root field's value."""
    sent, data = await gateway.count_statements(document, variables, token=flow.tokens[who])
    [value] = data.values()
    return sent, value


async def test_submissions_and_decisions_send_a_fixed_number_of_statements(gateway: Gateway,
                                                                             store_kind: str) -> None:
    flow = await Workflow(gateway).meet()
    deal = await flow.create()
    submit, deal = await counted(gateway, flow, SUBMIT, {"id": deal["id"], "v": deal["version"]}, "seller")
    approve, deal = await counted(gateway, flow, DECIDE, {"id": pending(deal)["id"], "decision": "APPROVE"},
                                  "manager")
    deal = await flow.decide(pending(deal)["id"], "APPROVE", who="desk")
    changes, deal = await counted(gateway, flow, DECIDE, {"id": pending(deal)["id"],
                                                         "decision": "REQUEST_CHANGES"}, "finance")
    edit = {"id": deal["id"], "v": deal["version"], "input": {"notes": "x"}}
    deal = await flow.ok(UPDATE, edit, who="seller")
    resubmit, deal = await counted(gateway, flow, SUBMIT, {"id": deal["id"], "v": deal["version"]}, "seller")

    assert [a["status"] for a in deal["approvals"][3:]] == ["APPROVED", "APPROVED", "PENDING"]
    deal = await flow.decide(pending(deal)["id"], "REQUEST_CHANGES", who="finance", comment="Again")
    edit = {"id": deal["id"], "v": deal["version"], "input": {"notes": "y"}}
    deal = await flow.ok(UPDATE, edit, who="seller")
    again, deal = await counted(gateway, flow, SUBMIT, {"id": deal["id"], "v": deal["version"]}, "seller")

    assert [a["status"] for a in deal["approvals"][6:]] == ["APPROVED", "APPROVED", "PENDING"]
    assert (submit, approve, changes, resubmit, again) == EXPECTED.get(store_kind, EXPECTED["transactions"])
