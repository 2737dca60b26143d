"""The served schema: exported to schema.graphql, and compatible with the contract."""

from __future__ import annotations

from pathlib import Path

from graphql import build_schema, find_breaking_changes

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
