"""The real gateway app driven over ASGI, with dev tokens and the statement counter."""

from __future__ import annotations

import re
from typing import Any

import httpx
from starlette.applications import Starlette

from auth.dev import issue_token
from gateway.core.roles import Role
from gateway.core.settings import Settings
from tests.support.data import Data

STATEMENTS = re.compile(r'^deal_desk_db_statements_total\{store="(\w+)"\} ([0-9.e+]+)$', re.M)


class Gateway:
    """A client of one running gateway app."""

    def __init__(self, app: Starlette, client: httpx.AsyncClient, settings: Settings) -> None:
        self.app, self.client, self.settings = app, client, settings
        self.data = Data(app.state.db.engine)

    def token(self, email: str, *roles: str, region: str | None = None) -> str:
        """A dev token for `email` holding `roles`."""
        return issue_token(self.settings, email=email, roles=[Role(r) for r in roles], region=region)

    async def post(self, query: str, variables: dict[str, Any] | None = None, *,
                   token: str | None = None, headers: dict[str, str] | None = None) -> httpx.Response:
        """POST a GraphQL document."""
        sent = dict(headers or {})
        if token is not None:
            sent["authorization"] = f"Bearer {token}"
        return await self.client.post("/graphql", json={"query": query, "variables": variables or {}},
                                      headers=sent)

    async def query(self, query: str, variables: dict[str, Any] | None = None, *,
                    token: str) -> dict[str, Any]:
        """The JSON body of a GraphQL request that must answer 200."""
        response = await self.post(query, variables, token=token)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def data_of(self, query: str, variables: dict[str, Any] | None = None, *,
                      token: str) -> dict[str, Any]:
        """`data` of a request that must succeed without errors."""
        body = await self.query(query, variables, token=token)
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data

    async def statements(self) -> int:
        """The store's statement counter, read from GET /metrics."""
        text = (await self.client.get("/metrics")).text
        return int(sum(float(value) for _store, value in STATEMENTS.findall(text)))

    async def count_statements(self, query: str, variables: dict[str, Any] | None = None, *,
                               token: str) -> tuple[int, dict[str, Any]]:
        """How many statements one request sent, and its data."""
        before = await self.statements()
        data = await self.data_of(query, variables, token=token)
        return await self.statements() - before, data

    async def count_statements_of(self, query: str, variables: dict[str, Any] | None = None, *,
                                  token: str) -> tuple[int, dict[str, Any]]:
        """How many statements one request sent, and its whole body (errors allowed)."""
        before = await self.statements()
        body = await self.query(query, variables, token=token)
        return await self.statements() - before, body
