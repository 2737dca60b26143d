"""Strawberry engine extensions: execution, error policy, limits, query cost, caches, operation info."""
