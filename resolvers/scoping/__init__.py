"""The scoping domain: its types, queries, inputs and validation."""
