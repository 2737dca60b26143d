"""The approval domain: its types, queries, inputs and validation."""
