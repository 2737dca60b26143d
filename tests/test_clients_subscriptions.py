"""Subscriptions as real clients run them: graphql-ws (npm: the web front end, GraphiQL) and gql (PyPI)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from gql import Client, gql
from gql.transport.exceptions import TransportClosed, TransportConnectionFailed, TransportError
from gql.transport.websockets import WebsocketsTransport

from gateway.app import create_app
from gateway.core.settings import Settings
from tests.support.data import Data
from tests.support.node import node_client
from tests.support.server import Server, serving
from tests.test_subscriptions import EVENTS, event, publish, token, wait_for_subscribers


@pytest.fixture
def server(settings: Settings) -> Iterator[Server]:
    """The app served by uvicorn on an ephemeral port."""
    with serving(create_app(settings)) as running:
        yield running


@pytest.fixture
def cast(server: Server) -> dict[str, str]:
    """Two sellers and one deal of each."""
    data = Data(server.app.state.db.engine)
    ann, bob = data.user("ann@x.test", "SELLER"), data.user("bob@x.test", "SELLER")
    advertiser = data.advertiser("Acme")
    ann_deal = data.deal(owner=ann, advertiser=advertiser, name="Ann's", deal_number="DD-1999-000001")
    bob_deal = data.deal(owner=bob, advertiser=advertiser, name="Bob's", deal_number="DD-1999-000002")
    return {"ann": ann, "bob": bob, "ann_deal": ann_deal, "bob_deal": bob_deal}


def job(server: Server, payload: dict[str, Any], events: int = 1) -> dict[str, Any]:
    """What tests/clients/subscribe.mjs is asked to do."""
    return {"url": server.ws_url, "payload": payload, "query": EVENTS, "events": events}


async def test_graphql_ws_client_receives_only_the_events_its_row_rules_show(
        server: Server, settings: Settings, cast: dict[str, str]) -> None:
    bearer = f"Bearer {token(settings, 'ann@x.test', 'SELLER')}"
    async with node_client("subscribe.mjs", job(server, {"authorization": bearer})) as client:
        assert await client.line() == {"connected": True}
        await wait_for_subscribers(server, 1)
        await publish(server, event("UPDATED", cast["bob_deal"], cast["bob"]),
                      event("SUBMITTED", cast["ann_deal"], cast["ann"]))
        received = await client.line()
    deal = received["next"]["data"]["dealEvents"]["deal"]
    assert deal == {"id": cast["ann_deal"], "name": "Ann's", "owner": {"email": "ann@x.test"}}


@pytest.mark.parametrize("payload", [{}, {"authorization": "Bearer not-a-jwt"}])
async def test_graphql_ws_client_with_a_bad_token_is_closed_4403(server: Server,
                                                                 payload: dict[str, str]) -> None:
    async with node_client("subscribe.mjs", job(server, payload)) as client:
        lines = [await client.line()]
        while "closed" not in lines[-1]:
            lines.append(await client.line())
    assert {"connected": True} not in lines
    assert lines[-1] == {"closed": 4403, "reason": "Forbidden"}


def transport(server: Server, payload: dict[str, Any]) -> WebsocketsTransport:
    """gql's graphql-transport-ws transport to the server."""
    return WebsocketsTransport(url=server.ws_url, init_payload=payload, connect_timeout=5, close_timeout=1,
                               subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL])


async def test_gql_client_receives_only_the_events_its_row_rules_show(
        server: Server, settings: Settings, cast: dict[str, str]) -> None:
    bearer = f"Bearer {token(settings, 'ann@x.test', 'SELLER')}"
    async with Client(transport=transport(server, {"authorization": bearer})) as session:
        events = session.subscribe(gql(EVENTS))
        first = asyncio.ensure_future(anext(events))
        await wait_for_subscribers(server, 1)
        await publish(server, event("UPDATED", cast["bob_deal"], cast["bob"]),
                      event("SUBMITTED", cast["ann_deal"], cast["ann"]))
        received = await asyncio.wait_for(first, 5)
        await events.aclose()
    assert received["dealEvents"]["deal"] == {"id": cast["ann_deal"], "name": "Ann's",
                                              "owner": {"email": "ann@x.test"}}


async def test_gql_client_with_a_bad_token_is_refused_4403(server: Server) -> None:
    with pytest.raises((TransportClosed, TransportConnectionFailed)) as refused:
        async with Client(transport=transport(server, {"authorization": "Bearer not-a-jwt"})) as session:
            await session.execute(gql("{ __typename }"))
    assert_closed_with(refused.value, 4403)


def assert_closed_with(error: TransportError, code: int) -> None:
    """The close code gql saw, wherever in the error's chain it keeps it."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    assert any(str(code) in str(item) or getattr(item, "code", None) == code for item in chain), chain
