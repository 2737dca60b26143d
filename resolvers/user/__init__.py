"""The user domain: its types, queries, inputs and validation."""
