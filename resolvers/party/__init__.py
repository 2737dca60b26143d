"""The party domain: its types, queries, inputs and validation."""
