"""The graphql-http project's audit (npm) of the gateway over real HTTP: no error and no warning."""

from __future__ import annotations

import json

from auth.dev import issue_token
from gateway.core.roles import Role
from gateway.core.settings import Settings
from tests.support.node import run_node
from tests.support.server import live_server

__all__ = ["live_server"]


async def test_the_graphql_over_http_audit_passes_with_no_warning(live_server: str,
                                                                  settings: Settings) -> None:
    token = issue_token(settings, email="analyst@x.test", roles=[Role.ANALYST])
    code, out, err = await run_node("audit.mjs", f"{live_server}/graphql", token)
    assert code == 0, err
    results = [json.loads(line) for line in out.splitlines()]
    assert len(results) >= 30  # every audit ran (graphql-http 1.23.1 has 31 for servers)
    assert [r for r in results if r["status"] != "ok"] == []  # no error, warning or notice
