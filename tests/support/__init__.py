"""Reusable test kits (fixtures and helpers) for gateway tests."""
