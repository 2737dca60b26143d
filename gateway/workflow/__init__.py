"""The deal workflow: approval rules, status transitions, approval chains, deal numbers and the steps."""
