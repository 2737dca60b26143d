"""GraphQL over HTTP to the letter: media types, status codes and request-error codes (PRODUCT.md, Errors)."""

from __future__ import annotations

import logging

import httpx
import pytest
from sqlalchemy import func, select

from gateway.core.tables import advertisers
from gateway.http.media_types import GRAPHQL_RESPONSE
from tests.support.gateway import Gateway
from tests.support.hardening import ME, bearer, error_of

CREATE = 'mutation { createAdvertiser(input: {name: "Acme"}) { id } }'
EVENTS = "subscription { dealEvents { kind } }"
DEAL = "query Deal($id: ID!) { deal(id: $id) { id } }"


async def post(gateway: Gateway, body: dict[str, object], accept: str | None) -> httpx.Response:
    """POST `body` as JSON with `accept` (none sent when None), as a DEAL_DESK caller."""
    headers = bearer(gateway.token("desk@x.test", "DEAL_DESK"))
    if accept is not None:
        headers["accept"] = accept
    return await gateway.client.post("/graphql", json=body, headers=headers)


GRAPHQL_RESPONSE_UTF8 = "application/graphql-response+json; charset=utf-8"


@pytest.mark.parametrize(("accept", "content_type"), [
    (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE_UTF8),
    ("application/graphql-response+json, application/json;q=0.9", GRAPHQL_RESPONSE_UTF8),  # Apollo Client
    ("application/json", "application/json"),
    ("application/json, application/graphql-response+json;q=0.5", "application/json"),
    ("*/*", "application/json"),
    (None, "application/json"),
])
async def test_the_response_media_type_is_the_one_the_client_prefers(gateway: Gateway, accept: str | None,
                                                                     content_type: str) -> None:
    response = await post(gateway, {"query": ME}, accept)
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert "errors" not in response.json()


@pytest.mark.parametrize(("body", "code"), [
    ({"query": "{ me { id "}, "GRAPHQL_PARSE_FAILED"),
    ({"query": "{ me { nope } }"}, "GRAPHQL_VALIDATION_FAILED"),
    ({"query": DEAL}, "BAD_USER_INPUT"),
    ({"query": DEAL, "variables": {"id": [1]}}, "BAD_USER_INPUT"),
])
async def test_request_errors_are_400_without_data_under_graphql_response_json(
        gateway: Gateway, body: dict[str, object], code: str) -> None:
    response = await post(gateway, body, GRAPHQL_RESPONSE)
    assert error_of(response)[:2] == (400, code)
    assert "data" not in response.json()
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)


@pytest.mark.parametrize(("body", "code"), [
    ({"query": "{ me { id "}, "GRAPHQL_PARSE_FAILED"),
    ({"query": "{ me { nope } }"}, "GRAPHQL_VALIDATION_FAILED"),
    ({"query": DEAL}, "BAD_USER_INPUT"),
])
async def test_request_errors_are_200_without_data_under_application_json(
        gateway: Gateway, body: dict[str, object], code: str) -> None:
    response = await post(gateway, body, "application/json")
    assert error_of(response)[:2] == (200, code)
    assert "data" not in response.json()


async def test_an_error_during_execution_keeps_its_data_and_200(gateway: Gateway) -> None:
    response = await post(gateway, {"query": '{ deal(id: "not-an-id") { id } }'}, GRAPHQL_RESPONSE)
    assert error_of(response)[:2] == (200, "BAD_USER_INPUT")
    assert response.json()["data"] == {"deal": None}


@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, "application/json"])
async def test_a_body_that_is_not_json_is_a_400_bad_request_in_the_accepted_type(gateway: Gateway,
                                                                                  accept: str) -> None:
    headers = {**bearer(gateway.token("desk@x.test", "DEAL_DESK")), "accept": accept,
               "content-type": "application/json"}
    response = await gateway.client.post("/graphql", content=b"{", headers=headers)
    assert error_of(response) == (400, "BAD_REQUEST", "Unable to parse request body as JSON")
    assert response.headers["content-type"].startswith(accept)


async def test_a_mutation_over_get_is_405_allowing_post_and_writes_nothing(gateway: Gateway) -> None:
    headers = bearer(gateway.token("desk@x.test", "DEAL_DESK"))
    response = await gateway.client.get("/graphql", params={"query": CREATE}, headers=headers)
    assert error_of(response) == (405, "BAD_REQUEST", "mutations are not allowed when using GET")
    assert response.headers["allow"] == "POST"
    with gateway.app.state.db.engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(advertisers)) == 0


async def test_a_query_over_get_answers(gateway: Gateway) -> None:
    headers = {**bearer(gateway.token("desk@x.test", "DEAL_DESK")), "accept": GRAPHQL_RESPONSE}
    response = await gateway.client.get("/graphql", params={"query": ME}, headers=headers)
    assert response.status_code == 200 and response.json()["data"]["me"]["id"]


@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, "application/json"])
async def test_a_subscription_over_http_is_a_bad_request_and_logs_no_error(
        gateway: Gateway, accept: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        response = await post(gateway, {"query": EVENTS}, accept)
    assert error_of(response) == (400, "BAD_REQUEST", "Subscriptions are served over WebSocket "
                                                      "(graphql-transport-ws) on /graphql, not plain HTTP")
    assert not [record for record in caplog.records if record.levelno >= logging.WARNING]
