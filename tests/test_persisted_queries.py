"""Apollo's automatic persisted queries: hash-only requests, registration, GET, workers sharing the store."""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from gateway.core.settings import Settings
from gateway.core.tables import persisted_queries
from gateway.http import documents
from gateway.http.media_types import GRAPHQL_RESPONSE
from tests.support.gateway import Gateway
from tests.support.hardening import ME, bearer, custom_gateway, error_of

CREATE = 'mutation { createAdvertiser(input: {name: "Acme"}) { id } }'
NOT_FOUND = (200, "PERSISTED_QUERY_NOT_FOUND", "PersistedQueryNotFound")


def sha256(document: str) -> str:
    """The APQ hash of `document`."""
    return hashlib.sha256(document.encode()).hexdigest()


def apq(document: str, *, with_query: bool) -> dict[str, Any]:
    """An APQ request body: the hash, and the query when `with_query`."""
    body: dict[str, Any] = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha256(document)}}}
    if with_query:
        body["query"] = document
    return body


def caller(gateway: Gateway, role: str = "SELLER") -> dict[str, str]:
    """The Authorization header of a caller holding `role`."""
    return bearer(gateway.token("ann@x.test", role))


async def post(gateway: Gateway, body: dict[str, Any],
               headers: dict[str, str] | None = None) -> httpx.Response:
    """POST `body` as a seller."""
    return await gateway.client.post("/graphql", json=body, headers={**caller(gateway), **(headers or {})})


async def get(gateway: Gateway, document: str, *, with_query: bool = False) -> httpx.Response:
    """GET with the APQ extension as a query parameter, as Apollo's useGETForHashedQueries does."""
    body = apq(document, with_query=with_query)
    params = {"extensions": json.dumps(body["extensions"]), **({"query": document} if with_query else {})}
    return await gateway.client.get("/graphql", params=params, headers=caller(gateway))


def stored(gateway: Gateway) -> int:
    """How many persisted queries the store holds."""
    with gateway.app.state.db.engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(persisted_queries)) or 0)


async def test_an_unknown_hash_is_persisted_query_not_found(gateway: Gateway) -> None:
    response = await post(gateway, apq(ME, with_query=False))
    assert error_of(response) == NOT_FOUND
    assert "data" not in response.json()


async def test_an_unknown_hash_is_a_400_under_graphql_response_json(gateway: Gateway) -> None:
    response = await post(gateway, apq(ME, with_query=False), {"accept": GRAPHQL_RESPONSE})
    assert error_of(response)[:2] == (400, "PERSISTED_QUERY_NOT_FOUND")


async def test_a_hash_sent_with_its_query_registers_it_for_post_and_get(gateway: Gateway) -> None:
    first = await post(gateway, apq(ME, with_query=True))
    assert first.status_code == 200 and first.json()["data"]["me"]["id"]
    assert stored(gateway) == 1
    by_post = await post(gateway, apq(ME, with_query=False))
    by_get = await get(gateway, ME)
    assert by_post.json() == by_get.json() == first.json()


async def test_a_hash_that_is_not_the_querys_is_a_bad_request_and_stores_nothing(gateway: Gateway) -> None:
    body = {**apq("{ me { email } }", with_query=False), "query": ME}
    response = await post(gateway, body)
    assert error_of(response) == (400, "BAD_REQUEST",
                                  "extensions.persistedQuery.sha256Hash is not the SHA-256 of the query")
    assert stored(gateway) == 0
    assert error_of(await post(gateway, apq("{ me { email } }", with_query=False))) == NOT_FOUND


@pytest.mark.parametrize("persisted", [{"version": 2, "sha256Hash": sha256(ME)}, {"version": 1},
                                       {"version": 1, "sha256Hash": "abc"}, "x"])
async def test_a_malformed_persisted_query_extension_is_a_bad_request(gateway: Gateway,
                                                                      persisted: Any) -> None:
    response = await post(gateway, {"query": ME, "extensions": {"persistedQuery": persisted}})
    assert error_of(response)[:2] == (400, "BAD_REQUEST")
    assert stored(gateway) == 0


async def test_a_document_refused_by_validation_is_not_registered(gateway: Gateway) -> None:
    response = await post(gateway, apq("{ me { nope } }", with_query=True))
    assert error_of(response)[:2] == (200, "GRAPHQL_VALIDATION_FAILED")
    assert stored(gateway) == 0


async def test_a_persisted_mutation_over_get_is_405(gateway: Gateway) -> None:
    created = await post(gateway, apq(CREATE, with_query=True), caller(gateway, "DEAL_DESK"))
    assert "errors" not in created.json()
    response = await get(gateway, CREATE)
    assert error_of(response)[:2] == (405, "BAD_REQUEST") and response.headers["allow"] == "POST"


async def test_a_query_registered_by_one_worker_runs_on_another(gateway: Gateway, settings: Settings) -> None:
    assert (await post(gateway, apq(ME, with_query=True))).status_code == 200
    async with custom_gateway(settings) as other:  # another process or replica on the same store
        await post(other, {"query": ME})  # the worker knows the caller from here on
        before = await other.statements()
        await post(other, {"query": ME})
        plain = await other.statements() - before
        response = await post(other, apq(ME, with_query=False))
        first = await other.statements() - before - plain
        again = await post(other, apq(ME, with_query=False))
        second = await other.statements() - before - plain - first
    assert response.json()["data"]["me"]["id"] and again.json() == response.json()
    assert (first - plain, second - plain) == (1, 0)  # the lookup; then the worker remembers the query


async def test_registering_costs_three_statements(gateway: Gateway) -> None:
    await post(gateway, {"query": ME})  # the caller's user row exists from here on
    before = await gateway.statements()
    await post(gateway, {"query": ME})
    plain = await gateway.statements() - before
    await post(gateway, apq(ME, with_query=True))
    registering = await gateway.statements() - before - plain
    assert registering - plain == 3  # expired ones purged, the store counted, the query inserted


async def test_persisted_queries_expire_after_the_ttl(settings: Settings) -> None:
    async with custom_gateway(settings, apq_ttl_s=1) as gateway:
        await post(gateway, apq(ME, with_query=True))
    await asyncio.sleep(1.2)
    async with custom_gateway(settings, apq_ttl_s=1) as other:
        assert error_of(await post(other, apq(ME, with_query=False))) == NOT_FOUND


async def test_a_full_store_registers_nothing_more_and_still_answers(settings: Settings) -> None:
    async with custom_gateway(settings, apq_max_entries=1) as gateway:
        await post(gateway, apq(ME, with_query=True))
        other = "query Other { me { email } }"
        response = await post(gateway, apq(other, with_query=True))
        assert response.json()["data"]["me"]["email"] == "ann@x.test"
        assert stored(gateway) == 1
        assert error_of(await post(gateway, apq(other, with_query=False))) == NOT_FOUND


async def test_a_worker_remembers_queries_up_to_its_budget_then_reads_the_store_again(
        gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(documents, "KNOWN_MAX_CHARS", len(ME) + 10)
    other = "query Other { me { email } }"
    await post(gateway, apq(ME, with_query=True))
    await post(gateway, apq(other, with_query=True))  # over the budget: ME is forgotten
    counts = []
    for document in (other, ME, ME):
        before = await gateway.statements()
        assert "errors" not in (await post(gateway, apq(document, with_query=False))).json()
        counts.append(await gateway.statements() - before)
    assert counts[1] == counts[0] + 1 == counts[2] + 1  # ME read from the store once, then remembered
