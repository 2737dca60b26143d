"""Apollo Client 4 (npm, the mobile app's client) through its persisted-query link, over real HTTP."""

from __future__ import annotations

import hashlib
import json

from auth.dev import issue_token
from gateway.core.roles import Role
from gateway.core.settings import Settings
from tests.support.node import run_node
from tests.support.server import live_server

__all__ = ["live_server"]

QUERY = "query Email { me { email } }"


async def test_apollo_clients_apq_flow_registers_once_then_sends_only_the_hash_over_get(
        live_server: str, settings: Settings) -> None:
    token = issue_token(settings, email="ann@x.test", roles=[Role.SELLER])
    code, out, err = await run_node("apq.mjs", f"{live_server}/graphql", token, QUERY)
    assert code == 0, err
    *runs, sent = [json.loads(line) for line in out.splitlines()]
    assert runs == [{"data": {"me": {"__typename": "User", "email": "ann@x.test"}}}] * 2
    hashes = {request.pop("hash") for request in sent["requests"]}
    assert sent["requests"] == [
        {"method": "GET", "query": False, "status": 400},  # PERSISTED_QUERY_NOT_FOUND (graphql-response+json)
        {"method": "POST", "query": True, "status": 200},  # registered
        {"method": "GET", "query": False, "status": 200},  # the hash alone from now on
    ]
    printed = "query Email {\n  me {\n    email\n    __typename\n  }\n}"  # as Apollo prints it
    assert hashes == {hashlib.sha256(printed.encode()).hexdigest()}
