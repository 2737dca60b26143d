"""Subscription.dealEvents over a real WebSocket against the app served by uvicorn."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import event as sqlalchemy_event
from starlette.applications import Starlette

from auth.dev import issue_token
from gateway.app import create_app
from gateway.core.ids import new_id
from gateway.core.roles import Role
from gateway.core.settings import Settings
from gateway.events.broker import Event
from tests.support.data import Data
from tests.support.server import Server, serving
from tests.support.ws import GraphQLSocket, graphql_socket

EVENTS = """
subscription Events($dealId: ID) {
  dealEvents(dealId: $dealId) { kind at deal { id name owner { email } } actor { email } }
}
"""


@pytest.fixture
def app(settings: Settings) -> Starlette:
    """The gateway app (its lifespan migrates the store when uvicorn starts it)."""
    return create_app(settings)


@pytest.fixture
def server(app: Starlette) -> Iterator[Server]:
    """The app served by uvicorn on an ephemeral port."""
    with serving(app) as running:
        yield running


@pytest.fixture
def cast(server: Server) -> dict[str, str]:
    """Two sellers, a deal desk user, an advertiser, and one deal of each seller."""
    data = Data(server.app.state.db.engine)
    people = {"ann": data.user("ann@x.test", "SELLER"), "bob": data.user("bob@x.test", "SELLER"),
              "desk": data.user("desk@x.test", "DEAL_DESK")}
    advertiser = data.advertiser("Acme")
    # Numbers of a past year, so createDeal's numbering of this year cannot collide with them.
    deals = {"ann_deal": data.deal(owner=people["ann"], advertiser=advertiser, name="Ann's",
                                   deal_number="DD-1999-000001"),
             "bob_deal": data.deal(owner=people["bob"], advertiser=advertiser, name="Bob's",
                                   deal_number="DD-1999-000002")}
    return people | deals | {"advertiser": advertiser}


def token(settings: Settings, email: str, role: str, lifetime_s: int = 3600) -> str:
    """A dev token for `email` holding `role`."""
    return issue_token(settings, email=email, roles=[Role(role)], lifetime_s=lifetime_s)


def event(kind: str, deal_id: str, actor: str) -> Event:
    """A committed-looking event on `deal_id` by `actor`."""
    return Event(kind=kind, deal_id=deal_id, actor_user_id=actor, at=dt.datetime.now(dt.UTC))


async def subscribers(server: Server) -> int:
    """How many subscriptions the server's broker counts."""
    count: int = await server.run(server.app.state.broker.subscribers())
    return count


async def wait_for_subscribers(server: Server, count: int) -> None:
    """Wait (bounded) until the broker counts `count` subscriptions."""
    async with asyncio.timeout(5):
        while await subscribers(server) != count:
            await asyncio.sleep(0.02)


async def publish(server: Server, *events: Event) -> None:
    """Publish through the server's broker, on its event loop, as a mutation would after commit."""
    for item in events:
        await server.run(server.app.state.broker.publish(item))


async def subscribe(client: GraphQLSocket, server: Server, bearer: str,
                    variables: dict[str, Any] | None = None) -> None:
    """connection_init with `bearer`, then subscribe to dealEvents and wait until the broker has it."""
    before = await subscribers(server)
    assert (await client.init({"authorization": f"Bearer {bearer}"}))["type"] == "connection_ack"
    await client.subscribe("1", EVENTS, variables)
    await wait_for_subscribers(server, before + 1)


def deals_of(messages: list[dict[str, Any]]) -> list[str]:
    """The deal id of each `next` message (anything else shows up as its type)."""
    return [m["payload"]["data"]["dealEvents"]["deal"]["id"] if m["type"] == "next" else m["type"]
            for m in messages]


async def test_seller_receives_events_on_own_deal_only(server: Server, settings: Settings,
                                                       cast: dict[str, str]) -> None:
    async with graphql_socket(server.ws_url) as client:
        await subscribe(client, server, token(settings, "ann@x.test", "SELLER"))
        sent = event("SUBMITTED", cast["ann_deal"], cast["ann"])
        await publish(server, event("UPDATED", cast["bob_deal"], cast["bob"]), sent)
        messages = await client.collect(1)
    assert deals_of(messages) == [cast["ann_deal"]]
    assert messages[0]["id"] == "1"
    assert messages[0]["payload"]["data"]["dealEvents"] == {
        "kind": "SUBMITTED", "at": sent.at.isoformat(), "actor": {"email": "ann@x.test"},
        "deal": {"id": cast["ann_deal"], "name": "Ann's", "owner": {"email": "ann@x.test"}},
    }


async def test_mutations_publish_after_commit_to_those_who_may_see_the_deal(
        server: Server, settings: Settings, cast: dict[str, str]) -> None:
    async with graphql_socket(server.ws_url) as client, httpx.AsyncClient(base_url=server.url) as http:
        await subscribe(client, server, token(settings, "ann@x.test", "SELLER"))
        bobs = await create_deal(http, token(settings, "bob@x.test", "SELLER"), cast["advertiser"])
        anns = await create_deal(http, token(settings, "ann@x.test", "SELLER"), cast["advertiser"])
        messages = await client.collect(1)
    assert bobs != anns
    assert deals_of(messages) == [anns]
    assert messages[0]["payload"]["data"]["dealEvents"]["kind"] == "CREATED"


async def create_deal(http: httpx.AsyncClient, bearer: str, advertiser: str) -> str:
    """The id of a DRAFT deal created over HTTP by the holder of `bearer`."""
    deal = {"name": "Live", "advertiserId": advertiser, "dealType": "PREFERRED_DEAL", "channels": ["DISPLAY"],
            "totalValue": "1000.00", "startDate": "2026-07-01", "endDate": "2026-09-30"}
    response = await http.post("/graphql", headers={"authorization": f"Bearer {bearer}"}, json={
        "query": "mutation($input: CreateDealInput!) { createDeal(input: $input) { id } }",
        "variables": {"input": deal}})
    assert response.status_code == 200 and "errors" not in response.json(), response.text
    deal_id: str = response.json()["data"]["createDeal"]["id"]
    return deal_id


async def test_deal_desk_receives_events_on_every_deal(server: Server, settings: Settings,
                                                       cast: dict[str, str]) -> None:
    async with graphql_socket(server.ws_url) as client:
        await subscribe(client, server, token(settings, "desk@x.test", "DEAL_DESK"))
        await publish(server, event("UPDATED", cast["bob_deal"], cast["bob"]),
                      event("WITHDRAWN", cast["ann_deal"], cast["ann"]))
        messages = await client.collect(2)
    assert deals_of(messages) == [cast["bob_deal"], cast["ann_deal"]]
    assert [m["payload"]["data"]["dealEvents"]["kind"] for m in messages] == ["UPDATED", "WITHDRAWN"]


async def test_deal_id_narrows_to_one_deal(server: Server, settings: Settings, cast: dict[str, str]) -> None:
    async with graphql_socket(server.ws_url) as client:
        await subscribe(client, server, token(settings, "desk@x.test", "DEAL_DESK"),
                        {"dealId": cast["ann_deal"]})
        await publish(server, event("UPDATED", cast["bob_deal"], cast["bob"]),
                      event("COMMENTED", cast["ann_deal"], cast["desk"]))
        messages = await client.collect(1)
    assert deals_of(messages) == [cast["ann_deal"]]


async def test_seller_naming_another_sellers_deal_receives_nothing(
        server: Server, settings: Settings, cast: dict[str, str]) -> None:
    async with graphql_socket(server.ws_url) as client:
        await subscribe(client, server, token(settings, "ann@x.test", "SELLER"), {"dealId": cast["bob_deal"]})
        await publish(server, event("UPDATED", cast["bob_deal"], cast["bob"]))
        with pytest.raises(TimeoutError):
            await client.receive(0.5)


async def test_malformed_deal_id_is_bad_user_input(server: Server, settings: Settings,
                                                   cast: dict[str, str]) -> None:
    async with graphql_socket(server.ws_url) as client:
        assert (await client.init({"token": token(settings, "desk@x.test", "DEAL_DESK")}))["type"] == (
            "connection_ack")
        await client.subscribe("1", EVENTS, {"dealId": "not-an-id"})
        message = await client.receive()
    assert message["type"] == "error", message
    assert message["payload"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_complete_unsubscribes(server: Server, settings: Settings, cast: dict[str, str]) -> None:
    async with graphql_socket(server.ws_url) as client:
        await subscribe(client, server, token(settings, "desk@x.test", "DEAL_DESK"))
        await client.complete("1")
        await wait_for_subscribers(server, 0)


@pytest.mark.parametrize("payload", [{}, {"authorization": "Bearer not-a-jwt"}, {"token": "not-a-jwt"},
                                     {"authorization": "Basic dXNlcjpwYXNz"}])
async def test_connection_init_without_a_valid_token_closes_4403(server: Server,
                                                                 payload: dict[str, str]) -> None:
    async with graphql_socket(server.ws_url) as client:
        await client.send({"type": "connection_init", "payload": payload})
        assert await client.close_code() == 4403


async def test_subscribe_before_connection_init_closes_4401(server: Server) -> None:
    async with graphql_socket(server.ws_url) as client:
        await client.subscribe("1", EVENTS)
        assert await client.close_code() == 4401


async def test_token_signed_with_another_key_closes_4403(server: Server, settings: Settings,
                                                       tmp_path: Any) -> None:
    stranger = Settings(database_url=settings.database_url, dev_key_file=str(tmp_path / "other-key.json"),
                        _env_file=None)  # type: ignore[call-arg]
    async with graphql_socket(server.ws_url) as client:
        await client.send({"type": "connection_init",
                           "payload": {"authorization": f"Bearer {token(stranger, 'ann@x.test', 'SELLER')}"}})
        assert await client.close_code() == 4403


async def test_subscriber_is_disconnected_when_its_token_expires(server: Server, settings: Settings,
                                                                 cast: dict[str, str]) -> None:
    short = token(settings, "desk@x.test", "DEAL_DESK", lifetime_s=2)
    async with graphql_socket(server.ws_url) as client:
        await subscribe(client, server, short)
        subscribed = time.monotonic()
        code = await client.close_code(timeout=5)
        waited = time.monotonic() - subscribed
    assert code == 4403
    assert 0.3 < waited < 3.5
    await wait_for_subscribers(server, 0)


async def test_event_published_on_one_replica_reaches_a_subscriber_of_another(
        settings: Settings, redis_url: str) -> None:
    shared = settings.model_copy(update={"events_url": redis_url})
    with serving(create_app(shared)) as first, serving(create_app(shared)) as second:
        cast = _two_sellers(Data(first.app.state.db.engine))
        before = await subscribers(first)
        async with graphql_socket(second.ws_url) as client:
            await subscribe(client, second, token(settings, "ann@x.test", "SELLER"))
            await publish(first, event("UPDATED", cast["bob_deal"], cast["bob"]),
                          event("CLOSED", cast["ann_deal"], cast["ann"]))
            messages = await client.collect(1)
        await wait_for_subscribers(first, before)  # the subscriber's Redis connection is gone
    assert deals_of(messages) == [cast["ann_deal"]]
    assert messages[0]["payload"]["data"]["dealEvents"]["kind"] == "CLOSED"


def _two_sellers(data: Data) -> dict[str, str]:
    ann, bob = data.user("ann@x.test", "SELLER"), data.user("bob@x.test", "SELLER")
    advertiser = data.advertiser("Acme")
    return {"ann": ann, "bob": bob, "ann_deal": data.deal(owner=ann, advertiser=advertiser),
            "bob_deal": data.deal(owner=bob, advertiser=advertiser)}


@pytest.fixture
def unreachable_redis_url() -> str:
    """A Redis URL on a local port nobody listens on."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


async def test_unreachable_redis_is_service_unavailable_to_subscribers(
        settings: Settings, unreachable_redis_url: str) -> None:
    down = settings.model_copy(update={"events_url": unreachable_redis_url})
    with serving(create_app(down)) as server:
        data = Data(server.app.state.db.engine)
        data.user("desk@x.test", "DEAL_DESK")
        await server.run(server.app.state.broker.publish(event("UPDATED", new_id(), new_id())))
        async with graphql_socket(server.ws_url) as client:
            await client.init({"token": token(settings, "desk@x.test", "DEAL_DESK")})
            await client.subscribe("1", EVENTS)
            messages = [await client.receive(), await client.receive()]
    assert messages[0]["payload"]["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert messages[1] == {"id": "1", "type": "complete"}


def statements_during(server: Server) -> list[str]:
    """The SQL the server's store runs from now on (appended as it runs)."""
    sent: list[str] = []
    sqlalchemy_event.listen(server.app.state.db.engine, "before_cursor_execute",
                            lambda *args: sent.append(args[2]))
    return sent


async def test_subscribers_of_one_caller_share_an_events_lookups_and_each_sees_its_own_rows(
        server: Server, settings: Settings, cast: dict[str, str]) -> None:
    desk, ann = token(settings, "desk@x.test", "DEAL_DESK"), token(settings, "ann@x.test", "SELLER")
    async with contextlib.AsyncExitStack() as stack:
        desks = [await stack.enter_async_context(graphql_socket(server.ws_url)) for _ in range(10)]
        for client in desks:
            await subscribe(client, server, desk)
        seller = await stack.enter_async_context(graphql_socket(server.ws_url))
        await subscribe(seller, server, ann)
        sent = statements_during(server)
        await publish(server, event("UPDATED", cast["bob_deal"], cast["bob"]))
        heard = [await client.collect(1) for client in desks]
        assert await seller.collect(0) == []  # Bob's deal is hidden from Ann: her rule ran in SQL too
    assert all(deals_of(messages) == [cast["bob_deal"]] for messages in heard)
    deal_reads = [sql for sql in sent if "FROM deals" in sql]
    assert len(deal_reads) == 2  # once for the ten DEAL_DESK subscribers, once for the seller
