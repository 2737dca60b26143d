"""Telling people: the outbox dispatcher, Slack, reminders and escalation, webhooks."""
