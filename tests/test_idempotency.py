"""Idempotency-Key: a retried mutation with the same key and caller returns the first result, once."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from auth.dev import issue_token
from gateway.app import create_app
from gateway.core.errors import ServiceUnavailable
from gateway.core.roles import Role
from gateway.core.settings import Settings
from gateway.core.tables import advertisers, idempotency_keys
from gateway.http import idempotency
from gateway.http.idempotency import Captured, fingerprint, is_retryable
from gateway.store import party
from tests.support.audit import audit_rows, count
from tests.support.gateway import Gateway
from tests.support.server import serving
from tests.support.stores import WITH_JOURNAL

STORE_KINDS = WITH_JOURNAL  # also on journaled writes (tests/conftest.py)

CREATE = "mutation New($name: String!) { createAdvertiser(input: {name: $name}) { id name } }"


def payload(name: str = "Acme") -> dict[str, Any]:
    """The JSON body the test client sends for CREATE."""
    return {"query": CREATE, "variables": {"name": name}}


async def create(gateway: Gateway, token: str, key: str | None, name: str = "Acme") -> httpx.Response:
    """createAdvertiser, with an Idempotency-Key when `key` is given."""
    headers = {"idempotency-key": key} if key is not None else {}
    return await gateway.post(CREATE, {"name": name}, token=token, headers=headers)


def desk(gateway: Gateway, email: str = "desk@x.test") -> str:
    """A DEAL_DESK token."""
    return gateway.token(email, "DEAL_DESK")


def expire_keys(gateway: Gateway) -> None:
    """Move every stored key's expiry into the past."""
    past = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    with gateway.data.engine.begin() as connection:
        connection.execute(update(idempotency_keys).values(expires_at=past))


async def test_same_key_twice_runs_once_and_replays(gateway: Gateway) -> None:
    token = desk(gateway)
    first = await create(gateway, token, "key-1")
    second = await create(gateway, token, "key-1")

    assert first.status_code == second.status_code == 200
    assert second.content == first.content
    assert "idempotent-replayed" not in first.headers
    assert second.headers["idempotent-replayed"] == "true"
    assert count(gateway.data.engine, advertisers) == 1
    advertiser_id = first.json()["data"]["createAdvertiser"]["id"]
    [record] = audit_rows(gateway.data.engine, advertisers, advertiser_id)
    assert record["idempotency_key"] == "key-1"


async def test_requests_without_a_key_are_not_stored(gateway: Gateway) -> None:
    token = desk(gateway)
    await create(gateway, token, None)
    await create(gateway, token, None)
    assert count(gateway.data.engine, advertisers) == 2
    assert count(gateway.data.engine, idempotency_keys) == 0


async def test_callers_have_their_own_keys(gateway: Gateway) -> None:
    first = await create(gateway, desk(gateway, "one@x.test"), "shared")
    second = await create(gateway, desk(gateway, "two@x.test"), "shared")

    assert "idempotent-replayed" not in second.headers
    assert first.json()["data"]["createAdvertiser"]["id"] != second.json()["data"]["createAdvertiser"]["id"]
    assert count(gateway.data.engine, advertisers) == 2


async def test_same_key_with_another_body_is_refused(gateway: Gateway) -> None:
    token = desk(gateway)
    await create(gateway, token, "key-1", name="Acme")
    refused = await create(gateway, token, "key-1", name="Other")

    assert refused.status_code == 422
    [error] = refused.json()["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "Idempotency-Key"}
    assert count(gateway.data.engine, advertisers) == 1


async def test_key_order_of_the_json_body_does_not_matter(gateway: Gateway) -> None:
    token = desk(gateway)
    headers = {"authorization": f"Bearer {token}", "idempotency-key": "k", "content-type": "application/json"}
    body = payload()
    first = await gateway.client.post("/graphql", content=json.dumps(body), headers=headers)
    second = await gateway.client.post("/graphql", content=json.dumps(dict(reversed(body.items()))),
                                       headers=headers)
    assert second.headers["idempotent-replayed"] == "true" and second.content == first.content


async def test_an_expired_key_runs_again(gateway: Gateway) -> None:
    token = desk(gateway)
    await create(gateway, token, "key-1")
    expire_keys(gateway)
    again = await create(gateway, token, "key-1")

    assert again.status_code == 200 and "idempotent-replayed" not in again.headers
    assert count(gateway.data.engine, advertisers) == 2
    assert count(gateway.data.engine, idempotency_keys) == 1


async def test_expired_keys_are_purged(gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    token = desk(gateway)
    for key in ("a", "b", "c"):
        await create(gateway, token, key)
    expire_keys(gateway)
    monkeypatch.setattr(idempotency, "PURGE_EVERY_S", 0.0)
    await create(gateway, token, "d")  # purges before it claims
    assert count(gateway.data.engine, idempotency_keys) == 1


@pytest.mark.parametrize("key", ["", "k" * 256])
async def test_unusable_keys_are_refused(gateway: Gateway, key: str) -> None:
    refused = await create(gateway, desk(gateway), key)
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "Idempotency-Key"}
    assert count(gateway.data.engine, advertisers) == 0


async def test_the_longest_key_is_accepted(gateway: Gateway) -> None:
    response = await create(gateway, desk(gateway), "k" * 255)
    assert response.status_code == 200 and "errors" not in response.json()


def abandon_claim(gateway: Gateway, key: str) -> None:
    """An unfinished claim of `key`, five minutes old, as a process that died mid-request left it."""
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    fingerprinted = fingerprint(json.dumps(payload()).encode())
    with gateway.data.engine.begin() as connection:
        connection.execute(idempotency_keys.insert().values(
            caller_sub="dev|desk@x.test", key=key, request_hash=fingerprinted, status="IN_PROGRESS",
            created_at=long_ago, expires_at=long_ago + dt.timedelta(hours=24)))


async def test_an_unfinished_claim_left_behind_runs_as_new_on_a_transactional_store(gateway: Gateway) -> None:
    if gateway.app.state.db.journaled:
        pytest.skip("journaled writes claim the key before the request runs (next test)")
    abandon_claim(gateway, "crashed")
    first = await create(gateway, desk(gateway), "crashed")
    again = await create(gateway, desk(gateway), "crashed")

    assert first.status_code == 200 and first.json()["data"]["createAdvertiser"]["name"] == "Acme"
    assert again.content == first.content and again.headers["idempotent-replayed"] == "true"
    assert count(gateway.data.engine, advertisers) == 1
    assert count(gateway.data.engine, idempotency_keys) == 1


async def test_an_abandoned_claim_of_a_journaled_write_is_a_conflict_and_never_runs(gateway: Gateway) -> None:
    if not gateway.app.state.db.journaled:
        pytest.skip("claims commit with the request's own transaction (previous test)")
    abandon_claim(gateway, "crashed")
    response = await create(gateway, desk(gateway), "crashed")

    assert response.status_code == 409
    assert response.json()["errors"][0]["extensions"] == {"code": "CONFLICT", "field": "Idempotency-Key"}
    assert count(gateway.data.engine, advertisers) == 0
    assert count(gateway.data.engine, idempotency_keys) == 1


async def test_an_unavailable_store_releases_the_key(gateway: Gateway,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    token = desk(gateway)
    real_create = party.create
    calls: list[int] = []

    def flaky(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise ServiceUnavailable()
        return real_create(*args, **kwargs)

    monkeypatch.setattr(party, "create", flaky)
    failed = await create(gateway, token, "key-1")
    retried = await create(gateway, token, "key-1")

    assert failed.status_code == 503
    assert retried.status_code == 200 and "idempotent-replayed" not in retried.headers
    assert count(gateway.data.engine, advertisers) == 1


async def test_errors_are_replayed_too(gateway: Gateway) -> None:
    analyst = gateway.token("ana@x.test", "ANALYST")
    first = await create(gateway, analyst, "key-1")
    second = await create(gateway, analyst, "key-1")
    assert first.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert second.content == first.content and second.headers["idempotent-replayed"] == "true"


async def test_queries_and_get_requests_pass_through(gateway: Gateway) -> None:
    token = desk(gateway)
    response = await gateway.client.get("/graphql", params={"query": "{ advertisers { totalCount } }"},
                                        headers={"authorization": f"Bearer {token}", "idempotency-key": "g"})
    assert response.status_code == 200
    assert count(gateway.data.engine, idempotency_keys) == 0


@pytest.mark.parametrize(("status", "body", "retryable"), [
    (503, {"data": None, "errors": [{"extensions": {"code": "SERVICE_UNAVAILABLE"}}]}, True),
    (200, {"data": None, "errors": [{"extensions": {"code": "SERVICE_UNAVAILABLE"}}]}, True),
    (500, "Internal Server Error", True),
    (200, {"data": {"a": {"id": "1"}, "b": None},
           "errors": [{"extensions": {"code": "SERVICE_UNAVAILABLE"}}]}, False),
    (200, {"data": None, "errors": [{"extensions": {"code": "FORBIDDEN"}}]}, False),
    (200, {"data": {"a": 1}}, False),
])
def test_what_releases_a_key(status: int, body: Any, retryable: bool) -> None:
    raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    assert is_retryable(status, raw) is retryable


@pytest.mark.parametrize(("content_type", "streamed"), [
    (b"multipart/mixed; boundary=-", True), (b"text/event-stream", True), (b"application/json", False)])
async def test_streamed_responses_pass_straight_through(content_type: bytes, streamed: bool) -> None:
    sent: list[Any] = []

    async def downstream(message: Any) -> None:
        sent.append(message)

    captured = Captured(downstream)
    start = {"type": "http.response.start", "status": 200, "headers": [(b"content-type", content_type)]}
    await captured.send(start)
    await captured.send({"type": "http.response.body", "body": b"part", "more_body": True})

    assert captured.streamed is streamed
    assert (len(sent), captured.chunks) == ((2, []) if streamed else (0, [b"part"]))


async def test_concurrent_duplicates_run_once(settings: Settings) -> None:
    app = create_app(settings)
    with serving(app) as server:
        token = issue_token(settings, email="desk@x.test", roles=[Role.DEAL_DESK])
        headers = {"authorization": f"Bearer {token}", "idempotency-key": "together"}
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            responses = await asyncio.gather(
                *(client.post("/graphql", json=payload(), headers=headers) for _ in range(10)))
        stored = count(app.state.db.engine, advertisers)

    assert [r.status_code for r in responses] == [200] * 10
    assert len({r.content for r in responses}) == 1
    assert sum(r.headers.get("idempotent-replayed") == "true" for r in responses) == 9
    assert stored == 1
