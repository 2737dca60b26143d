"""Strawberry types, queries and mutations of the Deal Desk API."""
