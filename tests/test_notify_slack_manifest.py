"""The Slack app manifest asks for the scopes the gateway uses and points Slack at its endpoint."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_manifest_asks_for_the_scopes_the_gateway_uses_and_names_the_interactivity_url() -> None:
    manifest = json.loads((ROOT / "docs" / "slack-app-manifest.json").read_text())
    scopes = manifest["oauth_config"]["scopes"]["bot"]
    assert sorted(scopes) == ["chat:write", "users:read", "users:read.email"]
    interactivity = manifest["settings"]["interactivity"]
    assert interactivity["is_enabled"] is True
    assert interactivity["request_url"].startswith("https://")
    assert interactivity["request_url"].endswith("/slack/interactions")
    guide = (ROOT / "docs" / "slack.md").read_text()
    assert "slack-app-manifest.json" in guide and "DEAL_DESK_SLACK_SIGNING_SECRET" in guide
