"""The deal domain: its types, queries, inputs and validation."""
