"""Bad requests get a clear error with a code (PRODUCT.md, Errors), never a 500.

The suite's client accepts */*, so it gets application/json: a malformed HTTP request is a 4xx, a
document refused by the parser, validation or variable coercion a 200 without `data` (GraphQL over
HTTP; tests/test_graphql_over_http.py covers application/graphql-response+json).
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator

import httpx
import pytest

from gateway.core.settings import Settings
from tests.support.gateway import Gateway
from tests.support.hardening import ME, bearer, custom_gateway, error_of, ids, nested
from tests.support.server import live_server
from tests.support.ws import graphql_socket

__all__ = ["live_server"]

MIB = 1_048_576
TOO_LARGE = f"The request body is larger than {MIB} bytes."
NOT_JSON = "Unable to parse request body as JSON"
DEALS = "query Deals($first: Int) { deals(first: $first) { totalCount } }"
DEAL = "query Deal($id: ID!) { deal(id: $id) { id } }"
CREATE_ADVERTISER = "mutation New($input: CreateAdvertiserInput!) { createAdvertiser(input: $input) { id } }"
SEARCH_ADVERTISERS = "query Search($text: String) { advertisers(search: $text) { totalCount } }"
SEARCH_DEALS = "query Search($text: String) { deals(filter: {search: $text}) { totalCount } }"
DEALS_IN_REGION = "query Region($text: String) { deals(filter: {region: $text}) { totalCount } }"
DEALS_AFTER = "query After($text: String) { deals(after: $text) { totalCount } }"
DEEP = 5_000  # levels of JSON nesting: json.loads gives up (RecursionError) at about 1000


def desk(gateway: Gateway) -> dict[str, str]:
    """The Authorization header of a DEAL_DESK caller."""
    return bearer(gateway.token("desk@x.test", "DEAL_DESK", region="NA"))


async def post_raw(gateway: Gateway, content: bytes, content_type: str | None = "application/json",
                   *, authorized: bool = True) -> httpx.Response:
    """POST `content` as it is."""
    headers = desk(gateway) if authorized else {}
    if content_type is not None:
        headers["content-type"] = content_type
    return await gateway.client.post("/graphql", content=content, headers=headers)


async def test_a_body_over_the_limit_is_413(gateway: Gateway) -> None:
    body = json.dumps({"query": ME, "padding": "x" * MIB}).encode()
    assert error_of(await post_raw(gateway, body)) == (413, "BAD_REQUEST", TOO_LARGE)


async def test_a_body_over_the_limit_is_413_before_authentication(gateway: Gateway) -> None:
    response = await post_raw(gateway, b"x" * (MIB + 1), authorized=False)
    assert error_of(response) == (413, "BAD_REQUEST", TOO_LARGE)


async def test_a_streamed_body_without_content_length_is_cut_at_the_limit(gateway: Gateway) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(20):
            yield b" " * 65_536

    response = await gateway.client.post("/graphql", content=chunks(),
                                         headers={**desk(gateway), "content-type": "application/json"})
    assert "content-length" not in response.request.headers
    assert error_of(response) == (413, "BAD_REQUEST", TOO_LARGE)


async def test_the_body_limit_is_a_setting(settings: Settings) -> None:
    async with custom_gateway(settings, max_body_bytes=100) as gateway:
        small = await gateway.post(ME, token=gateway.token("a@x.test", "SELLER"))
        large = await gateway.post(f"{{ me {{ {ids(30)} }} }}", token=gateway.token("a@x.test", "SELLER"))
    assert small.status_code == 200
    assert error_of(large) == (413, "BAD_REQUEST", "The request body is larger than 100 bytes.")


async def test_a_body_just_under_the_limit_is_read(gateway: Gateway) -> None:
    body = json.dumps({"query": ME, "padding": "x" * (MIB - 100)}).encode()
    response = await post_raw(gateway, body)
    assert response.status_code == 200 and "errors" not in response.json()


@pytest.mark.parametrize(("content", "message"), [
    (b'{"query": ', NOT_JSON),
    (b"\xff\xfe{}", NOT_JSON),  # not UTF-8: Strawberry alone answers 500
    (b"42", "Expected a JSON object"),  # Strawberry alone answers 500 to JSON that is not an object
    (b"null", "Expected a JSON object"),
    (b'"{ me { id } }"', "Expected a JSON object"),
    (b'[{"query": "{ me { id } }"}]', "Batching is not enabled"),
    (b'{"query": 42}', "The GraphQL operation's `query` must be a string or null, if provided."),
    (b"{}", "No GraphQL query found in the request"),
    (b'{"query": "{ me { id } }", "variables": [1]}',
     "The GraphQL operation's `variables` must be an object or null, if provided."),
    (b'{"query": "{ me { id } }", "extensions": "x"}',
     "The GraphQL operation's `extensions` must be an object or null, if provided."),
])
async def test_a_malformed_body_is_a_400_bad_request(gateway: Gateway, content: bytes, message: str) -> None:
    assert error_of(await post_raw(gateway, content)) == (400, "BAD_REQUEST", message)


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", "application/graphql"])
async def test_a_body_that_is_not_json_is_415(gateway: Gateway, content_type: str | None) -> None:
    response = await post_raw(gateway, json.dumps({"query": ME}).encode(), content_type)
    assert error_of(response) == (415, "BAD_REQUEST", "Unsupported content type: send application/json")


async def test_json_with_a_charset_is_accepted(gateway: Gateway) -> None:
    response = await post_raw(gateway, json.dumps({"query": ME}).encode(), "application/json; charset=utf-8")
    assert response.status_code == 200 and "errors" not in response.json()


async def test_a_variable_of_the_wrong_type_is_bad_user_input(gateway: Gateway) -> None:
    response = await gateway.client.post("/graphql", json={"query": DEALS, "variables": {"first": "ten"}},
                                         headers=desk(gateway))
    assert error_of(response) == (200, "BAD_USER_INPUT",
                                  "Variable '$first' has invalid value: "
                                  "Int cannot represent non-integer value: 'ten'")


async def test_an_input_object_variable_of_the_wrong_type_is_bad_user_input(gateway: Gateway) -> None:
    response = await gateway.post(CREATE_ADVERTISER, {"input": "x"}, headers=desk(gateway))
    status, code, message = error_of(response)
    assert (status, code) == (200, "BAD_USER_INPUT") and message.startswith("Variable '$input'")
    assert "data" not in response.json()


@pytest.mark.parametrize(("query", "variables", "field"), [
    (CREATE_ADVERTISER, {"input": {"name": "Acme\u0000"}}, "input.name"),
    (SEARCH_ADVERTISERS, {"text": "a\u0000"}, "search"),
    (SEARCH_DEALS, {"text": "a\u0000"}, "filter.search"),
    (DEALS_IN_REGION, {"text": "\u0000"}, "filter.region"),
])
async def test_text_with_a_nul_character_is_bad_user_input(gateway: Gateway, query: str,
                                                            variables: dict[str, object], field: str) -> None:
    # PostgreSQL can neither store nor compare NUL: unchecked, it was an INTERNAL_SERVER_ERROR (fuzzing).
    response = await gateway.post(query, variables, headers=desk(gateway))
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}


@pytest.mark.parametrize("headers", [{}, {"idempotency-key": "deep-1"}])
async def test_json_nested_too_deeply_is_400(gateway: Gateway, headers: dict[str, str]) -> None:
    body = b'{"query": "{ me { id } }", "variables": {"a": ' + b"[" * DEEP + b"]" * DEEP + b"}}"
    headers = {**desk(gateway), **headers, "content-type": "application/json"}
    response = await gateway.client.post("/graphql", content=body, headers=headers)
    assert error_of(response) == (400, "BAD_REQUEST", NOT_JSON)


async def test_variables_nested_too_deeply_over_get_are_400(gateway: Gateway) -> None:
    variables = "[" * DEEP + "]" * DEEP
    response = await gateway.client.get("/graphql", params={"query": ME, "variables": variables},
                                        headers=desk(gateway))
    assert error_of(response) == (400, "BAD_REQUEST", NOT_JSON)


async def test_a_cursor_nested_too_deeply_is_bad_user_input(gateway: Gateway) -> None:
    cursor = base64.urlsafe_b64encode(b"[" * DEEP + b"]" * DEEP).decode()
    response = await gateway.post(DEALS_AFTER, {"text": cursor}, headers=desk(gateway))
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "after"}


async def test_a_missing_required_variable_is_bad_user_input(gateway: Gateway) -> None:
    response = await gateway.client.post("/graphql", json={"query": DEAL}, headers=desk(gateway))
    assert error_of(response) == (200, "BAD_USER_INPUT", "Variable '$id' has invalid value: "
                                  "Expected a value of non-null type 'ID!' to be provided.")


async def test_a_syntax_error_is_graphql_parse_failed(gateway: Gateway) -> None:
    response = await gateway.client.post("/graphql", json={"query": "{ me { id "}, headers=desk(gateway))
    assert error_of(response) == (200, "GRAPHQL_PARSE_FAILED", "Syntax Error: Expected Name, found <EOF>.")
    assert "data" not in response.json()


async def test_an_unknown_field_is_graphql_validation_failed(gateway: Gateway) -> None:
    response = await gateway.client.post("/graphql", json={"query": "{ me { nope } }"}, headers=desk(gateway))
    assert error_of(response) == (200, "GRAPHQL_VALIDATION_FAILED",
                                  "Cannot query field 'nope' on type 'User'.")
    assert "data" not in response.json()


@pytest.mark.parametrize(("document", "message"), [
    ('{ deals(filter: {minValue: "x"}) { totalCount } }', 'Value cannot represent a Decimal: "x".'),
    ("{ deal { id } }", "Argument 'Query.deal(id:)' of type 'ID!' is required, but it was not provided."),
])
async def test_a_bad_argument_in_the_document_is_bad_user_input(gateway: Gateway, document: str,
                                                                 message: str) -> None:
    response = await gateway.client.post("/graphql", json={"query": document}, headers=desk(gateway))
    assert error_of(response) == (200, "BAD_USER_INPUT", message)


async def test_a_huge_document_under_the_body_limit_is_refused(gateway: Gateway) -> None:
    document = f"{{ me {{ {ids(200_000)} }} }}"  # about 600 KB
    response = await gateway.client.post("/graphql", json={"query": document}, headers=desk(gateway))
    assert error_of(response) == (200, "GRAPHQL_VALIDATION_FAILED",
                                  "Syntax Error: Document contains more than 2000 tokens. Parsing aborted.")


async def test_a_deeply_nested_document_is_refused(gateway: Gateway) -> None:
    response = await gateway.client.post("/graphql", json={"query": nested(200)}, headers=desk(gateway))
    assert error_of(response) == (200, "GRAPHQL_VALIDATION_FAILED",
                                  "Syntax Error: Document is nested too deeply. Parsing aborted.")


async def test_a_nested_document_under_the_token_limit_is_refused(gateway: Gateway) -> None:
    response = await gateway.client.post("/graphql", json={"query": nested(20)}, headers=desk(gateway))
    assert error_of(response) == (200, "GRAPHQL_VALIDATION_FAILED",
                                  "'anonymous' exceeds maximum operation depth of 12")


async def test_an_unknown_operation_name_is_400(gateway: Gateway) -> None:
    response = await gateway.client.post("/graphql", json={"query": ME, "operationName": "Other"},
                                         headers=desk(gateway))
    assert error_of(response)[:2] == (400, "BAD_REQUEST")


async def test_malformed_variables_over_get_are_400(gateway: Gateway) -> None:
    response = await gateway.client.get("/graphql", params={"query": DEALS, "variables": "{"},
                                        headers=desk(gateway))
    assert error_of(response) == (400, "BAD_REQUEST", NOT_JSON)


async def test_another_method_is_405(gateway: Gateway) -> None:
    response = await gateway.client.put("/graphql", json={"query": ME}, headers=desk(gateway))
    assert response.status_code == 405


async def test_a_websocket_message_that_is_not_json_still_closes_4400(live_server: str) -> None:
    async with graphql_socket(live_server.replace("http://", "ws://", 1) + "/graphql") as client:
        await client.connection.send("{not json")
        assert await client.close_code() == 4400


async def test_a_websocket_message_nested_too_deeply_closes_4400(live_server: str) -> None:
    async with graphql_socket(live_server.replace("http://", "ws://", 1) + "/graphql") as client:
        await client.connection.send("[" * DEEP + "]" * DEEP)
        assert await client.close_code() == 4400
