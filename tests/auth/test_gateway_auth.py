"""The gateway with Okta configured, over HTTP: refusals, outages, rotation, the users row, roles."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, event, select

from gateway.app import create_app
from gateway.core.settings import Settings
from gateway.core.tables import users
from tests.support.gateway import Gateway
from tests.support.okta import EMAIL, NAME, SUB, OktaServer, b64url, forge, hs256

HOUR = 3600
INVALID_TOKEN = 'Bearer error="invalid_token"'
ME = "{ me { id email displayName region roles } }"


@pytest.fixture(autouse=True)
def _capture_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)


def bearer(token: str) -> dict[str, str]:
    """An Authorization header carrying `token`."""
    return {"authorization": f"Bearer {token}"}


async def post(gateway: Gateway, query: str, headers: dict[str, str] | None = None) -> httpx.Response:
    """POST a GraphQL document with exactly `headers`."""
    return await gateway.client.post("/graphql", json={"query": query}, headers=headers or {})


def assert_not_logged(secret: str, caplog: pytest.LogCaptureFixture) -> None:
    """Neither `secret` nor any sizeable segment of it is in the logs."""
    pieces = [secret, *(part for part in secret.split(".") if len(part) >= 8)]
    assert not [piece for piece in pieces if piece and piece in caplog.text]


def assert_unauthenticated(response: httpx.Response) -> None:
    """HTTP 401, UNAUTHENTICATED, and the RFC 6750 challenge."""
    assert response.status_code == 401, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert response.headers["www-authenticate"] == INVALID_TOKEN


# --- refused requests --------------------------------------------------------------------------

HeaderOf = Callable[[OktaServer], str | None]


def _tampered(okta: OktaServer) -> str:
    header, _, signature = okta.mint(groups=["dealdesk-sellers"]).split(".")
    forged = b64url(json.dumps(okta.claims(groups=["dealdesk-admins"])))
    return f"Bearer {header}.{forged}.{signature}"


def _hs256_with_public_key(okta: OktaServer) -> str:
    header = {"alg": "HS256", "kid": okta.rsa_key.kid}
    return "Bearer " + forge(header, okta.claims(), hs256(okta.rsa_key.as_pem(private=False)))


REFUSED: dict[str, HeaderOf] = {
    "alg none": lambda okta: "Bearer " + forge({"alg": "none", "kid": okta.rsa_key.kid}, okta.claims()),
    "HS256 with the public key as secret": _hs256_with_public_key,
    "missing kid": lambda okta: "Bearer " + okta.mint(header={"kid": None}),
    "other audience": lambda okta: "Bearer " + okta.mint(aud="api://someone-else"),
    "expired": lambda okta: "Bearer " + okta.mint(now=time.time() - 2 * HOUR, lifetime_s=HOUR),
    "not yet valid": lambda okta: "Bearer " + okta.mint(nbf=int(time.time()) + 600),
    "tampered payload": _tampered,
    "wrong issuer": lambda okta: "Bearer " + okta.mint(iss="https://evil.okta.com/oauth2/default"),
    "unknown signing key": lambda okta: "Bearer " + okta.mint(header={"kid": "not-a-published-kid"}),
    "no header": lambda okta: None,
    "empty bearer": lambda okta: "Bearer ",
    "not a JWT": lambda okta: "Bearer this-is-not-a-jwt",
    "three garbage segments": lambda okta: "Bearer aaaaaaaaaa.bbbbbbbbbb.cccccccccc",
    "basic scheme": lambda okta: "Basic dXNlcjpwYXNzd29yZA==",
    "valid token under another scheme": lambda okta: "Token " + okta.mint(),
}


@pytest.mark.parametrize("header_of", list(REFUSED.values()), ids=list(REFUSED))
async def test_refused_over_http_with_401_and_nothing_logged(
    okta_gateway: Gateway, okta_server: OktaServer, caplog: pytest.LogCaptureFixture, header_of: HeaderOf,
) -> None:
    header = header_of(okta_server)
    response = await post(okta_gateway, ME, {"authorization": header} if header is not None else None)

    assert_unauthenticated(response)
    assert "data" not in response.json()
    assert any(r.name == "deal_desk.auth" and "refused" in r.getMessage() for r in caplog.records)
    if header is not None:
        assert_not_logged(header.partition(" ")[2], caplog)


async def test_refused_query_via_get_is_a_401_too(okta_gateway: Gateway, okta_server: OktaServer) -> None:
    token = okta_server.mint(aud="api://someone-else")
    response = await okta_gateway.client.get("/graphql", params={"query": ME}, headers=bearer(token))
    assert_unauthenticated(response)


async def test_nothing_is_written_for_a_refused_token(okta_gateway: Gateway, okta_server: OktaServer) -> None:
    await post(okta_gateway, ME, bearer(okta_server.mint(aud="api://someone-else")))
    assert user_rows(okta_gateway.app.state.db.engine) == []


# --- outages and rotation ----------------------------------------------------------------------


async def test_jwks_unreachable_from_the_start_is_503_with_retry_after(
    okta_gateway: Gateway, okta_server: OktaServer, caplog: pytest.LogCaptureFixture,
) -> None:
    token = okta_server.mint()
    okta_server.stop()

    response = await post(okta_gateway, ME, bearer(token))

    assert response.status_code == 503, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert int(response.headers["retry-after"]) > 0
    assert "www-authenticate" not in response.headers
    assert_not_logged(token, caplog)


async def test_jwks_answering_errors_from_the_start_is_503(
    okta_gateway: Gateway, okta_server: OktaServer,
) -> None:
    okta_server.fail_with(500)
    response = await post(okta_gateway, ME, bearer(okta_server.mint()))
    assert response.status_code == 503
    assert response.headers["retry-after"]


async def test_key_rotation_over_http(okta_gateway: Gateway, okta_server: OktaServer) -> None:
    before = okta_server.mint()
    assert (await post(okta_gateway, ME, bearer(before))).status_code == 200

    okta_server.rotate()
    after = okta_server.mint()

    assert (await post(okta_gateway, ME, bearer(after))).status_code == 200
    assert (await post(okta_gateway, ME, bearer(okta_server.mint(key=okta_server.ec_key)))).status_code == 200
    assert_unauthenticated(await post(okta_gateway, ME, bearer(before)))  # the old key is unpublished
    assert okta_server.requests == 2


async def test_an_accepted_token_is_not_logged_either(
    okta_gateway: Gateway, okta_server: OktaServer, caplog: pytest.LogCaptureFixture,
) -> None:
    token = okta_server.mint()
    refused = await post(okta_gateway, "{ me { id } nope }", bearer(token))  # a request error: 200, no data
    assert refused.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert (await post(okta_gateway, ME, bearer(token))).status_code == 200
    assert_not_logged(token, caplog)


async def test_es256_token_is_accepted(okta_gateway: Gateway, okta_server: OktaServer) -> None:
    response = await post(okta_gateway, ME, bearer(okta_server.mint(key=okta_server.ec_key)))
    assert response.status_code == 200
    assert response.json()["data"]["me"]["email"] == EMAIL


# --- the users row -----------------------------------------------------------------------------


def user_rows(engine: Engine) -> list[dict[str, Any]]:
    """Every users row, as plain dicts."""
    with engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(select(users).order_by(users.c.id))]


@contextmanager
def user_writes(engine: Engine) -> Iterator[list[str]]:
    """Collects the INSERT/UPDATE statements on `users` sent while the block runs."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        text = " ".join(statement.split()).upper()
        if text.startswith(("INSERT INTO USERS", "UPDATE USERS")):
            seen.append(text)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def me(gateway: Gateway, token: str) -> dict[str, Any]:
    """`me` for `token`, which must be accepted."""
    response = await post(gateway, ME, bearer(token))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    return dict(body["data"]["me"])


async def test_first_request_creates_the_users_row_from_the_claims(
    okta_gateway: Gateway, okta_server: OktaServer,
) -> None:
    engine = okta_gateway.app.state.db.engine
    groups = ["Everyone", "dealdesk-sellers", "dealdesk-finance"]
    with user_writes(engine) as writes:
        caller = await me(okta_gateway, okta_server.mint(groups=groups))

    [row] = user_rows(engine)
    assert (row["sub"], row["email"], row["display_name"]) == (SUB, EMAIL, NAME)
    assert (row["region"], row["roles"], row["active"]) == ("EMEA", "FINANCE,SELLER", True)
    assert [w.split(" ")[0] for w in writes] == ["INSERT"]
    assert caller == {"id": row["id"], "email": EMAIL, "displayName": NAME, "region": "EMEA",
                      "roles": ["FINANCE", "SELLER"]}


async def test_unchanged_claims_write_nothing_and_send_no_extra_statement(
    okta_gateway: Gateway, okta_server: OktaServer,
) -> None:
    first = await me(okta_gateway, okta_server.mint())
    engine = okta_gateway.app.state.db.engine
    baseline, _ = await okta_gateway.count_statements(ME, token=okta_server.mint())

    with user_writes(engine) as writes:
        again = await me(okta_gateway, okta_server.mint(lifetime_s=2 * HOUR))  # new token, same claims
        statements, _ = await okta_gateway.count_statements(ME, token=okta_server.mint())

    assert writes == [] and again == first
    assert statements == baseline
    assert len(user_rows(engine)) == 1


@pytest.mark.parametrize("changes, column, expected", [
    ({"name": "Alice Renamed"}, "display_name", "Alice Renamed"),
    ({"email": "alice@new.example.com"}, "email", "alice@new.example.com"),
    ({"groups": ["dealdesk-desk", "dealdesk-admins"]}, "roles", "ADMIN,DEAL_DESK"),
    ({"groups": ["Everyone"]}, "roles", ""),
    ({"region": "APAC"}, "region", "APAC"),
])
async def test_changed_claims_refresh_the_row(
    okta_gateway: Gateway, okta_server: OktaServer, changes: dict[str, Any], column: str, expected: str,
) -> None:
    engine = okta_gateway.app.state.db.engine
    first = await me(okta_gateway, okta_server.mint())
    with user_writes(engine) as writes:
        await me(okta_gateway, okta_server.mint(**changes))

    [row] = user_rows(engine)
    assert row[column] == expected and row["id"] == first["id"] and row["sub"] == SUB
    assert len(writes) == 1 and writes[0].startswith("UPDATE")


async def test_concurrent_first_requests_create_one_row(
    okta_gateway: Gateway, okta_server: OktaServer,
) -> None:
    token = okta_server.mint()
    responses = await asyncio.gather(*(post(okta_gateway, ME, bearer(token)) for _ in range(8)))
    assert [r.status_code for r in responses] == [200] * 8
    assert len({r.json()["data"]["me"]["id"] for r in responses}) == 1
    assert len(user_rows(okta_gateway.app.state.db.engine)) == 1


async def test_claims_changing_back_refresh_the_row_again(
    okta_gateway: Gateway, okta_server: OktaServer,
) -> None:
    engine = okta_gateway.app.state.db.engine
    await me(okta_gateway, okta_server.mint())
    await me(okta_gateway, okta_server.mint(groups=["dealdesk-admins"], name="Alice Admin"))
    caller = await me(okta_gateway, okta_server.mint())  # group removed again

    [row] = user_rows(engine)
    assert (row["roles"], row["display_name"]) == ("SELLER", NAME)
    assert caller["roles"] == ["SELLER"]


async def test_missing_region_claim_keeps_the_stored_region(
    okta_gateway: Gateway, okta_server: OktaServer,
) -> None:
    await me(okta_gateway, okta_server.mint(region="NA"))
    with user_writes(okta_gateway.app.state.db.engine) as writes:
        caller = await me(okta_gateway, okta_server.mint(region=None))
    assert caller["region"] == "NA" and writes == []


async def test_a_restarted_gateway_reads_but_does_not_rewrite_an_unchanged_user(
    okta_gateway: Gateway, okta_server: OktaServer, database_url: str,
) -> None:
    first = await me(okta_gateway, okta_server.mint())
    app = create_app(okta_server.settings(database_url=database_url))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
            restarted = Gateway(app, client, okta_gateway.settings)
            with user_writes(app.state.db.engine) as writes:
                assert await me(restarted, okta_server.mint()) == first
    assert writes == []


# --- introspection, GraphiQL, no-role callers --------------------------------------------------

INTROSPECTION = "{ __schema { types { name } } }"


async def test_introspection_needs_a_valid_token(okta_gateway: Gateway, okta_server: OktaServer) -> None:
    response = await post(okta_gateway, INTROSPECTION, bearer(okta_server.mint()))
    assert response.status_code == 200
    names = {t["name"] for t in response.json()["data"]["__schema"]["types"]}
    assert {"Deal", "DealTier", "Query"} <= names

    assert_unauthenticated(await post(okta_gateway, INTROSPECTION))


async def test_graphiql_page_is_served_without_a_token(okta_gateway: Gateway) -> None:
    response = await okta_gateway.client.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "graphiql" in response.text.lower()


@pytest.mark.parametrize("query_string", ["query={me{id}}", "%71uery={me{id}}", "x=1&query={me{id}}"])
async def test_a_browser_get_carrying_a_query_still_needs_a_token(
    okta_gateway: Gateway, query_string: str,
) -> None:
    response = await okta_gateway.client.get(f"/graphql?{query_string}", headers={"accept": "text/html"})
    assert_unauthenticated(response)


async def test_health_and_metrics_need_no_token(okta_gateway: Gateway) -> None:
    for path in ("/healthz", "/readyz", "/metrics"):
        assert (await okta_gateway.client.get(path)).status_code == 200


async def test_token_with_no_mapped_role_is_authenticated_but_sees_nothing(
    okta_gateway: Gateway, okta_server: OktaServer,
) -> None:
    data = okta_gateway.data
    seller = data.user("seller@x.test", "SELLER", region="EMEA")
    advertiser, agency = data.advertiser("Acme"), data.agency("Mediahaus")
    deal = data.deal(owner=seller, advertiser=advertiser, agency_id=agency)
    data.scoping(requested_by=seller, advertiser=advertiser)
    query = """{
      deals { totalCount edges { node { id } } }
      advertisers { totalCount edges { node { id } } }
      agencies { totalCount edges { node { id } } }
      scopingRequests { totalCount edges { node { id } } }
      pipeline(groupBy: REGION) { key dealCount }
      myApprovalQueue { totalCount }
      me { email roles }
    }"""
    token = okta_server.mint(groups=["Everyone", "some-other-app"], region="EMEA")

    response = await post(okta_gateway, query, bearer(token))

    assert response.status_code == 200
    body = response.json()
    assert "errors" not in body
    got = body["data"]
    empty = {"totalCount": 0, "edges": []}
    assert got["deals"] == got["advertisers"] == got["agencies"] == got["scopingRequests"] == empty
    assert got["pipeline"] == [] and got["myApprovalQueue"] == {"totalCount": 0}
    assert got["me"] == {"email": EMAIL, "roles": []}
    nodes = await post(okta_gateway, f'{{ deal(id: "{deal}") {{ id }} node(id: "{advertiser}") {{ id }} }}',
                       bearer(token))
    assert nodes.json() == {"data": {"deal": None, "node": None}}


# --- dev auth must not run in production -------------------------------------------------------


def test_dev_auth_refuses_to_start_in_production(tmp_path: Path) -> None:
    settings = Settings(env="production", database_url=f"sqlite:///{tmp_path}/prod.db",
                        dev_key_file=str(tmp_path / "key.json"), _env_file=None)  # type: ignore[call-arg]
    with pytest.raises(RuntimeError, match="DEAL_DESK_AUTH_ISSUER"):
        create_app(settings)
    assert not (tmp_path / "key.json").exists()


def test_dev_auth_refuses_production_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DEAL_DESK_ENV", "Production")
    monkeypatch.delenv("DEAL_DESK_AUTH_ISSUER", raising=False)
    monkeypatch.setenv("DEAL_DESK_DATABASE_URL", f"sqlite:///{tmp_path}/prod.db")
    with pytest.raises(RuntimeError, match="refuses to run with DEAL_DESK_ENV=production"):
        create_app()


def test_okta_in_production_starts(okta_server: OktaServer, tmp_path: Path) -> None:
    settings = okta_server.settings(env="production", database_url=f"sqlite:///{tmp_path}/prod.db",
                                    auth_jwks_url=okta_server.jwks_url.replace("http://", "https://"))
    app = create_app(settings)
    app.state.db.dispose()
