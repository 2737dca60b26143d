"""The served schema: exported to schema.graphql, and compatible with the contract."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from graphql import DocumentNode, build_schema, find_breaking_changes, parse, print_ast

from resolvers.schema import schema

ROOT = Path(__file__).resolve().parent.parent
CONTRACT = ROOT.parent / "shared" / "spec" / "contract.graphql"


def test_exported_schema_is_up_to_date() -> None:
    exported = (ROOT / "schema.graphql").read_text()
    assert exported == schema.as_str() + "\n", "run `deal-desk export-schema` and commit schema.graphql"


def test_served_schema_keeps_the_contract() -> None:
    contract = build_schema(CONTRACT.read_text())
    served = build_schema(schema.as_str())
    changes = find_breaking_changes(contract, served)
    breaks = [f"{change.type.name}: {change.description}" for change in changes]
    assert breaks == []


ADDITIONS = CONTRACT.with_name("contract-additions.graphql")
SERVED_ADDITIONS: dict[str, set[str] | None] = {
    # "More of the workflow deal desks rely on" (None: the whole definition).
    "ApprovalActionType": {"CARRIED_OVER", "ESCALATED"},
    "DealApproval": {"step", "carriedOverFrom", "escalatedAt"},
    "ApprovalPreview": None,
    "Query": {"approvalChainPreview", "pricingGuidance"},
    # "Pricing guidance".
    "DecimalQuantiles": None,
    "PricingGuidance": None,
    "PricingGuidanceInput": None,
    "Deal": {"pricingGuidance"},
    # "Approvers are told": notifications, Slack, reminders, escalation.
    "ActionChannel": None,
    "ApprovalAction": {"via"},
    "DealEventKind": {"ESCALATED"},
}


def served_additions() -> str:
    """The definitions of contract-additions.graphql the gateway serves, cut down to the served members."""
    kept = []
    for definition in parse(ADDITIONS.read_text()).definitions:
        name = getattr(definition, "name", None)
        if name is None or name.value not in SERVED_ADDITIONS:
            continue
        wanted = SERVED_ADDITIONS[name.value]
        if wanted is not None:
            members = "fields" if getattr(definition, "fields", None) else "values"
            chosen = tuple(m for m in getattr(definition, members) if m.name.value in wanted)
            if not chosen:
                continue
            definition = dataclasses.replace(definition, **{members: chosen})  # type: ignore[call-arg]
        kept.append(definition)
    return print_ast(DocumentNode(definitions=tuple(kept)))


def test_served_schema_keeps_the_contract_with_the_additions_it_serves() -> None:
    additions = served_additions()
    assert all(name in additions for name in ("approvalChainPreview", "CARRIED_OVER", "carriedOverFrom",
                                              "pricingGuidance", "PricingGuidanceInput", "DecimalQuantiles"))
    assert all(name in additions for name in ("escalatedAt", "via", "ESCALATED", "ActionChannel"))
    contract = build_schema(CONTRACT.read_text() + "\n" + additions)
    served = build_schema(schema.as_str())
    changes = find_breaking_changes(contract, served)
    breaks = [f"{change.type.name}: {change.description}" for change in changes]
    assert breaks == []
