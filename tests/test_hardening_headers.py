"""Security headers on every response, the CORS allow-list, and GraphiQL and introspection switches."""

from __future__ import annotations

import re

import httpx
import pytest

from auth.dev import DevAuthenticator
from gateway import app as gateway_app
from gateway.core.settings import Settings
from tests.support.gateway import Gateway
from tests.support.hardening import ME, bearer, custom_gateway, error_of

PAGE = {"accept": "text/html"}
INTROSPECTION = "{ __schema { __typename } }"
API_CSP = "default-src 'none'; frame-ancestors 'none'"
COMMON = {"x-content-type-options": "nosniff", "referrer-policy": "no-referrer", "x-frame-options": "DENY"}
APP = "https://app.dealdesk.example"


def directives(csp: str) -> dict[str, list[str]]:
    """A Content-Security-Policy by directive."""
    parts = (part.split() for part in csp.split(";") if part.strip())
    return {name: sources for name, *sources in parts}


def assert_secured(response: httpx.Response, csp: str = API_CSP) -> None:
    """The response carries the common security headers and `csp`."""
    assert {name: response.headers.get(name) for name in COMMON} == COMMON
    assert response.headers["content-security-policy"] == csp


async def test_every_response_carries_the_security_headers(gateway: Gateway) -> None:
    token = gateway.token("a@x.test", "SELLER")
    responses = [
        await gateway.post(ME, token=token),
        await gateway.post(ME),  # 401
        await gateway.post("{ nope }", token=token),  # a validation error: 200 under application/json
        await gateway.client.post("/graphql", content=b"x" * 2_000_000),  # 413
        await gateway.client.get("/healthz"),
        await gateway.client.get("/metrics"),
        await gateway.client.get("/nowhere"),
    ]
    assert [r.status_code for r in responses] == [200, 401, 200, 413, 200, 200, 404]
    for response in responses:
        assert_secured(response)
        assert "strict-transport-security" not in response.headers


async def test_hsts_is_sent_behind_tls(settings: Settings) -> None:
    async with custom_gateway(settings, behind_tls=True) as gateway:
        response = await gateway.client.get("/healthz")
    assert response.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"


async def test_the_graphiql_page_policy_allows_exactly_what_the_page_loads(gateway: Gateway) -> None:
    response = await gateway.client.get("/graphql", headers=PAGE)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    policy = directives(response.headers["content-security-policy"])
    assert_secured(response, response.headers["content-security-policy"])
    html = response.text
    sources = re.findall(r'<script[^>]*\ssrc="([^"]+)"', html)
    sources += re.findall(r'<link[^>]*\shref="([^"]+)"', html)
    assert len(sources) == 7 and all(src.startswith("/graphiql/") or src == "data:," for src in sources)
    assert policy["script-src"] == ["'self'"] and not re.findall(r"<script>", html)  # no inline script
    assert policy["style-src"] == ["'self'", "'unsafe-inline'"]
    assert policy["connect-src"] == ["'self'"] and policy["frame-ancestors"] == ["'none'"]
    assert "data:" in policy["img-src"] and "data:" in policy["font-src"]  # favicon; GraphiQL's fonts


async def test_no_origin_is_allowed_by_default(gateway: Gateway) -> None:
    preflight = await gateway.client.options("/graphql", headers={
        "origin": APP, "access-control-request-method": "POST"})
    simple = await gateway.post(ME, token=gateway.token("a@x.test", "SELLER"), headers={"origin": APP})
    assert "access-control-allow-origin" not in preflight.headers
    assert simple.status_code == 200 and "access-control-allow-origin" not in simple.headers


async def test_configured_origins_may_call_the_api(settings: Settings) -> None:
    async with custom_gateway(settings, cors_origins=[APP]) as gateway:
        preflight = await gateway.client.options("/graphql", headers={
            "origin": APP, "access-control-request-method": "POST",
            "access-control-request-headers": "authorization, content-type, idempotency-key"})
        simple = await gateway.post(ME, token=gateway.token("a@x.test", "SELLER"), headers={"origin": APP})
    assert preflight.status_code == 200 and preflight.headers["access-control-allow-origin"] == APP
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
    assert simple.headers["access-control-allow-origin"] == APP
    assert "x-request-id" in simple.headers["access-control-expose-headers"].lower()


async def test_other_origins_are_refused(settings: Settings) -> None:
    async with custom_gateway(settings, cors_origins=[APP]) as gateway:
        preflight = await gateway.client.options("/graphql", headers={
            "origin": "https://evil.example", "access-control-request-method": "POST"})
    assert preflight.status_code == 400 and "access-control-allow-origin" not in preflight.headers


def test_origins_may_be_listed_with_commas(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEAL_DESK_CORS_ORIGINS", f"{APP}, https://admin.dealdesk.example")
    assert Settings(_env_file=None).cors_origins == [APP, "https://admin.dealdesk.example"]  # type: ignore[call-arg]


async def test_graphiql_and_introspection_are_on_in_development(gateway: Gateway) -> None:
    page = await gateway.client.get("/graphql", headers=PAGE)
    body = await gateway.data_of(INTROSPECTION, token=gateway.token("a@x.test", "SELLER"))
    assert page.status_code == 200 and body == {"__schema": {"__typename": "__Schema"}}


async def test_graphiql_and_introspection_can_be_switched_off(settings: Settings) -> None:
    async with custom_gateway(settings, graphiql=False, introspection=False) as gateway:
        token = gateway.token("a@x.test", "SELLER")
        await assert_closed(gateway, token)


@pytest.fixture
def production(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """DEAL_DESK_ENV=production; dev auth stands in for Okta (which needs an https issuer)."""
    monkeypatch.setattr(gateway_app, "authenticator_for", lambda _settings: DevAuthenticator(settings))
    return settings.model_copy(update={"env": "production"})


async def test_production_has_neither_graphiql_nor_introspection(production: Settings) -> None:
    async with custom_gateway(production) as gateway:
        await assert_closed(gateway, gateway.token("a@x.test", "SELLER"))


async def test_production_may_switch_them_on(production: Settings) -> None:
    async with custom_gateway(production, graphiql=True, introspection=True) as gateway:
        page = await gateway.client.get("/graphql", headers=PAGE)
        body = await gateway.data_of(INTROSPECTION, token=gateway.token("a@x.test", "SELLER"))
    assert page.status_code == 200 and body == {"__schema": {"__typename": "__Schema"}}


async def assert_closed(gateway: Gateway, token: str) -> None:
    """No GraphiQL page (anonymous or not), no introspection; ordinary queries and __typename work."""
    assert error_of(await gateway.client.get("/graphql", headers=PAGE)) == (404, "NOT_FOUND", "Not Found")
    page = await gateway.client.get("/graphql", headers={**PAGE, **bearer(token)})
    assert error_of(page) == (404, "NOT_FOUND", "Not Found")
    assert error_of(await gateway.post(INTROSPECTION, token=token)) == (
        200, "GRAPHQL_VALIDATION_FAILED",
        "GraphQL introspection has been disabled, but the requested query contained the field '__schema'.")
    assert await gateway.data_of("{ __typename me { id } }", token=token)
