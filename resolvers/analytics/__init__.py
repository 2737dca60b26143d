"""The analytics domain: its types, queries, inputs and validation."""
