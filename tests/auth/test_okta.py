"""OktaAuthenticator against a real JWKS endpoint on 127.0.0.1 (tests/support/okta.py)."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from joserfc import jws

from auth.errors import AuthenticationError, AuthUnavailable
from auth.okta import OktaAuthenticator
from auth.principal import Claims
from gateway.core.roles import Role
from gateway.core.settings import Settings
from tests.support.okta import SUB, OktaServer, b64url, forge, hs256, new_ec_key, new_rsa_key

HOUR = 3600
ALG, NOKID, KID = "unsupported token algorithm", "token has no key id", "unknown signing key"
SIG, MALFORMED = "invalid token signature", "malformed token"
CLAIMS, EXP = "invalid token claims", "token expired"


class FakeClock:
    """A clock starting at real time that only moves when told to."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def authenticator(okta_settings: Settings, clock: FakeClock) -> AsyncIterator[OktaAuthenticator]:
    verifier = OktaAuthenticator(okta_settings, clock=clock)
    yield verifier
    await verifier.aclose()


@pytest.fixture(autouse=True)
def _capture_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)


def assert_not_leaked(token: str, caplog: pytest.LogCaptureFixture, message: str) -> None:
    """Neither the token nor any sizeable part of it is in the logs or the error message."""
    pieces = [token] + [part for part in token.split(".") if len(part) >= 8]
    for text in (caplog.text, message):
        assert not [piece for piece in pieces if piece and piece in text]


async def assert_refused(
    authenticator: OktaAuthenticator, token: str, caplog: pytest.LogCaptureFixture, message: str,
) -> None:
    """The token is refused with `message`, the refusal is logged, and nothing leaks."""
    with pytest.raises(AuthenticationError) as refused:
        await authenticator.verify(token)
    assert str(refused.value) == message
    assert any(r.name == "deal_desk.auth" and "refused" in r.getMessage() for r in caplog.records)
    assert_not_leaked(token, caplog, message)


# --- accepted tokens ---------------------------------------------------------------------------


async def test_valid_rs256_token_gives_claims(
    authenticator: OktaAuthenticator, okta_server: OktaServer,
) -> None:
    groups = ["Everyone", "dealdesk-sellers", "dealdesk-finance", "some-other-app"]
    exp = int(time.time()) + HOUR
    claims = await authenticator.verify(okta_server.mint(groups=groups, region="APAC", exp=exp))
    assert claims == Claims(
        sub=SUB, email="alice@example.com", name="Alice Example",
        roles=frozenset({Role.SELLER, Role.FINANCE}), region="APAC", expires_at=exp,
    )


async def test_valid_es256_token_gives_claims(
    authenticator: OktaAuthenticator, okta_server: OktaServer,
) -> None:
    token = okta_server.mint(key=okta_server.ec_key, groups=["dealdesk-admins"], region=None)
    claims = await authenticator.verify(token)
    assert claims.roles == frozenset({Role.ADMIN})
    assert claims.region is None


async def test_token_without_mapped_groups_is_authenticated_with_no_roles(
    authenticator: OktaAuthenticator, okta_server: OktaServer,
) -> None:
    claims = await authenticator.verify(okta_server.mint(groups=["Everyone", "unknown"]))
    assert claims.roles == frozenset()
    assert claims.sub == SUB


async def test_audience_list_containing_ours_is_accepted(
    authenticator: OktaAuthenticator, okta_server: OktaServer,
) -> None:
    token = okta_server.mint(aud=["api://other", okta_server.audience])
    assert (await authenticator.verify(token)).sub == SUB


async def test_expiry_within_clock_skew_is_accepted(
    authenticator: OktaAuthenticator, okta_server: OktaServer, clock: FakeClock,
) -> None:
    token = okta_server.mint(now=clock.now - 600, lifetime_s=600 - 30)
    assert (await authenticator.verify(token)).sub == SUB


# --- refused tokens ----------------------------------------------------------------------------


async def test_alg_none_is_refused(
    authenticator: OktaAuthenticator, okta_server: OktaServer, caplog: pytest.LogCaptureFixture,
) -> None:
    token = forge({"alg": "none", "kid": okta_server.rsa_key.kid}, okta_server.claims())
    await assert_refused(authenticator, token, caplog, ALG)


async def test_hs256_is_refused(
    authenticator: OktaAuthenticator, okta_server: OktaServer, caplog: pytest.LogCaptureFixture,
) -> None:
    header = {"alg": "HS256", "kid": okta_server.rsa_key.kid}
    token = forge(header, okta_server.claims(), hs256(b"a shared secret"))
    await assert_refused(authenticator, token, caplog, ALG)


async def test_hs256_signed_with_the_rsa_public_key_is_refused(
    authenticator: OktaAuthenticator, okta_server: OktaServer, caplog: pytest.LogCaptureFixture,
) -> None:
    public_pem = okta_server.rsa_key.as_pem(private=False)
    header = {"alg": "HS256", "kid": okta_server.rsa_key.kid}
    token = forge(header, okta_server.claims(), hs256(public_pem))
    await assert_refused(authenticator, token, caplog, ALG)


async def test_missing_kid_is_refused(
    authenticator: OktaAuthenticator, okta_server: OktaServer, caplog: pytest.LogCaptureFixture,
) -> None:
    await assert_refused(authenticator, okta_server.mint(header={"kid": None}), caplog, NOKID)


async def test_unknown_kid_is_refused_after_one_refetch(
    authenticator: OktaAuthenticator, okta_server: OktaServer, caplog: pytest.LogCaptureFixture,
) -> None:
    stranger = new_rsa_key()
    await assert_refused(authenticator, okta_server.mint(key=stranger), caplog, KID)
    assert okta_server.requests == 2


async def test_wrong_issuer_is_refused(
    authenticator: OktaAuthenticator, okta_server: OktaServer, caplog: pytest.LogCaptureFixture,
) -> None:
    token = okta_server.mint(iss="https://evil.okta.com/oauth2/default")
    await assert_refused(authenticator, token, caplog, CLAIMS)


async def test_wrong_audience_is_refused(
    authenticator: OktaAuthenticator, okta_server: OktaServer, caplog: pytest.LogCaptureFixture,
) -> None:
    await assert_refused(authenticator, okta_server.mint(aud=["api://other", "api://x"]), caplog, CLAIMS)


async def test_expired_token_is_refused(
    authenticator: OktaAuthenticator, okta_server: OktaServer, caplog: pytest.LogCaptureFixture,
    clock: FakeClock,
) -> None:
    token = okta_server.mint(now=clock.now - 2 * HOUR, lifetime_s=HOUR)
    await assert_refused(authenticator, token, caplog, EXP)


async def test_token_expired_just_beyond_skew_is_refused(
    authenticator: OktaAuthenticator, okta_server: OktaServer, caplog: pytest.LogCaptureFixture,
    clock: FakeClock,
) -> None:
    token = okta_server.mint(now=clock.now - 600, lifetime_s=600 - 61)
    await assert_refused(authenticator, token, caplog, EXP)


async def test_future_nbf_is_refused(
    authenticator: OktaAuthenticator, okta_server: OktaServer, caplog: pytest.LogCaptureFixture,
    clock: FakeClock,
) -> None:
    await assert_refused(authenticator, okta_server.mint(nbf=int(clock.now) + 120), caplog, CLAIMS)


async def test_iat_in_the_future_beyond_skew_is_refused(
    authenticator: OktaAuthenticator, okta_server: OktaServer, caplog: pytest.LogCaptureFixture,
    clock: FakeClock,
) -> None:
    await assert_refused(authenticator, okta_server.mint(iat=int(clock.now) + 120, nbf=None), caplog, CLAIMS)


async def test_missing_exp_is_refused(
    authenticator: OktaAuthenticator, okta_server: OktaServer, caplog: pytest.LogCaptureFixture,
) -> None:
    await assert_refused(authenticator, okta_server.mint(exp=None), caplog, CLAIMS)


async def test_missing_sub_is_refused(
    authenticator: OktaAuthenticator, okta_server: OktaServer, caplog: pytest.LogCaptureFixture,
) -> None:
    await assert_refused(authenticator, okta_server.mint(sub=None), caplog, CLAIMS)


async def test_tampered_payload_is_refused(
    authenticator: OktaAuthenticator, okta_server: OktaServer, caplog: pytest.LogCaptureFixture,
) -> None:
    header, _, signature = okta_server.mint(groups=["dealdesk-sellers"]).split(".")
    forged_claims = okta_server.claims(groups=["dealdesk-admins"])
    token = f"{header}.{b64url(json.dumps(forged_claims))}.{signature}"
    await assert_refused(authenticator, token, caplog, SIG)


async def test_tampered_signature_is_refused(
    authenticator: OktaAuthenticator, okta_server: OktaServer, caplog: pytest.LogCaptureFixture,
) -> None:
    header, payload, signature = okta_server.mint().split(".")
    flipped = ("A" if signature[10] != "A" else "B").join([signature[:10], signature[11:]])
    await assert_refused(authenticator, f"{header}.{payload}.{flipped}", caplog, SIG)


async def test_token_signed_by_another_key_under_a_known_kid_is_refused(
    authenticator: OktaAuthenticator, okta_server: OktaServer, caplog: pytest.LogCaptureFixture,
) -> None:
    impostor = new_rsa_key(kid=okta_server.rsa_key.kid)
    await assert_refused(authenticator, okta_server.mint(key=impostor), caplog, SIG)


async def test_keys_embedded_or_linked_in_the_header_are_ignored(
    authenticator: OktaAuthenticator, okta_server: OktaServer, caplog: pytest.LogCaptureFixture,
) -> None:
    impostor = new_ec_key(kid=okta_server.ec_key.kid)
    header = {"jwk": impostor.as_dict(private=False), "jku": "https://evil.example/keys"}
    await assert_refused(authenticator, okta_server.mint(key=impostor, header=header), caplog, SIG)


async def test_es256_header_naming_the_rsa_key_is_refused(
    authenticator: OktaAuthenticator, okta_server: OktaServer, caplog: pytest.LogCaptureFixture,
) -> None:
    attacker = new_ec_key()
    token = okta_server.mint(key=attacker, header={"kid": okta_server.rsa_key.kid})
    await assert_refused(authenticator, token, caplog, KID)


def _malformed_tokens() -> dict[str, str]:
    header = b64url(json.dumps({"alg": "RS256", "kid": "k"}))
    payload = b64url(json.dumps({"sub": "x"}))
    return {
        "garbage": "this-is-not-a-token-at-all",
        "empty": "",
        "two segments": f"{header}.{payload}",
        "four segments": f"{header}.{payload}.c2lnbmF0dXJl.ZXh0cmE",
        "bad base64": "!!!!.@@@@.####",
        "header not json": f"{b64url('{not json at all')}.{payload}.c2lnbmF0dXJl",
        "header is an array": f"{b64url(json.dumps(['RS256']))}.{payload}.c2lnbmF0dXJl",
        "header is a string": f"{b64url(json.dumps('RS256'))}.{payload}.c2lnbmF0dXJl",
        "non-ascii": "\u00e9t\u00e9.\u00e9t\u00e9.\u00e9t\u00e9",
    }


@pytest.mark.parametrize("token", list(_malformed_tokens().values()), ids=list(_malformed_tokens()))
async def test_malformed_token_is_refused(
    authenticator: OktaAuthenticator, token: str, caplog: pytest.LogCaptureFixture,
) -> None:
    await assert_refused(authenticator, token, caplog, MALFORMED)


async def test_validly_signed_payload_that_is_not_json_is_refused(
    authenticator: OktaAuthenticator, okta_server: OktaServer, caplog: pytest.LogCaptureFixture,
) -> None:
    key = okta_server.rsa_key
    token = jws.serialize_compact({"alg": "RS256", "kid": key.kid}, b"{not json", key)
    await assert_refused(authenticator, token, caplog, MALFORMED)


# --- JWKS cache, rotation, rate limit, outages -------------------------------------------------


async def test_keys_are_fetched_once_and_cached(
    authenticator: OktaAuthenticator, okta_server: OktaServer,
) -> None:
    for _ in range(5):
        await authenticator.verify(okta_server.mint())
    await authenticator.verify(okta_server.mint(key=okta_server.ec_key))
    assert okta_server.requests == 1


async def test_rotated_key_is_accepted_after_exactly_one_refetch(
    authenticator: OktaAuthenticator, okta_server: OktaServer,
) -> None:
    await authenticator.verify(okta_server.mint())
    okta_server.rotate()
    assert (await authenticator.verify(okta_server.mint())).sub == SUB
    assert (await authenticator.verify(okta_server.mint())).sub == SUB
    assert okta_server.requests == 2


async def test_flood_of_unknown_kids_refetches_at_most_once_per_window(
    authenticator: OktaAuthenticator, okta_server: OktaServer, caplog: pytest.LogCaptureFixture,
) -> None:
    await authenticator.verify(okta_server.mint())
    for _ in range(50):
        token = okta_server.mint(header={"kid": secrets.token_hex(8)})
        await assert_refused(authenticator, token, caplog, KID)
    assert okta_server.requests <= 2


async def test_concurrent_flood_of_unknown_kids_refetches_at_most_once(
    authenticator: OktaAuthenticator, okta_server: OktaServer,
) -> None:
    await authenticator.verify(okta_server.mint())
    tokens = [okta_server.mint(header={"kid": secrets.token_hex(8)}) for _ in range(50)]
    results = await asyncio.gather(*(authenticator.verify(t) for t in tokens), return_exceptions=True)
    assert all(isinstance(result, AuthenticationError) for result in results)
    assert okta_server.requests <= 2


async def test_unknown_kid_refetch_is_allowed_again_after_the_window(
    authenticator: OktaAuthenticator, okta_server: OktaServer, clock: FakeClock,
) -> None:
    await authenticator.verify(okta_server.mint())
    with pytest.raises(AuthenticationError):
        await authenticator.verify(okta_server.mint(header={"kid": "bogus-1"}))
    okta_server.rotate()
    with pytest.raises(AuthenticationError):  # still inside the 30 s window: no refetch
        await authenticator.verify(okta_server.mint())
    assert okta_server.requests == 2
    clock.advance(31)
    assert (await authenticator.verify(okta_server.mint(now=clock.now))).sub == SUB
    assert okta_server.requests == 3


async def test_cached_keys_keep_working_when_the_jwks_server_stops(
    authenticator: OktaAuthenticator, okta_server: OktaServer, clock: FakeClock,
) -> None:
    await authenticator.verify(okta_server.mint())
    okta_server.stop()
    assert (await authenticator.verify(okta_server.mint(key=okta_server.ec_key))).sub == SUB
    clock.advance(2 * HOUR)  # past max age: the refresh fails, the cached keys still serve
    assert (await authenticator.verify(okta_server.mint(now=clock.now))).sub == SUB


async def test_unknown_kid_during_an_outage_is_a_401_not_a_503(
    authenticator: OktaAuthenticator, okta_server: OktaServer,
) -> None:
    await authenticator.verify(okta_server.mint())
    okta_server.stop()
    with pytest.raises(AuthenticationError):
        await authenticator.verify(okta_server.mint(key=new_rsa_key()))


async def test_keys_are_refreshed_after_max_age(
    authenticator: OktaAuthenticator, okta_server: OktaServer, clock: FakeClock,
) -> None:
    await authenticator.verify(okta_server.mint())
    clock.advance(HOUR + 1)
    await authenticator.verify(okta_server.mint(now=clock.now))
    assert okta_server.requests == 2


async def test_jwks_unreachable_from_the_start_is_unavailable(
    authenticator: OktaAuthenticator, okta_server: OktaServer, caplog: pytest.LogCaptureFixture,
) -> None:
    token = okta_server.mint()
    okta_server.stop()
    with pytest.raises(AuthUnavailable):
        await authenticator.verify(token)
    assert_not_leaked(token, caplog, "")


@pytest.mark.parametrize("status, body", [(500, b"{}"), (200, b"<html>"), (200, b'{"keys": []}')])
async def test_broken_jwks_from_the_start_is_unavailable(
    authenticator: OktaAuthenticator, okta_server: OktaServer, status: int, body: bytes,
) -> None:
    okta_server.fail_with(status, body)
    with pytest.raises(AuthUnavailable):
        await authenticator.verify(okta_server.mint())


async def test_broken_jwks_response_keeps_the_cached_keys(
    authenticator: OktaAuthenticator, okta_server: OktaServer, clock: FakeClock,
) -> None:
    await authenticator.verify(okta_server.mint())
    okta_server.serve(raw=b'{"keys": "nope"}')
    clock.advance(HOUR + 1)
    assert (await authenticator.verify(okta_server.mint(now=clock.now))).sub == SUB
    assert okta_server.requests == 2


async def test_concurrent_verifications_on_a_cold_cache_fetch_once(
    authenticator: OktaAuthenticator, okta_server: OktaServer,
) -> None:
    tokens = [okta_server.mint(key=okta_server.ec_key if i % 2 else None) for i in range(20)]
    results = await asyncio.gather(*(authenticator.verify(token) for token in tokens))
    assert {claims.sub for claims in results} == {SUB}
    assert okta_server.requests == 1


# --- construction and lifecycle ----------------------------------------------------------------


def test_an_issuer_is_required(okta_server: OktaServer) -> None:
    with pytest.raises(ValueError):
        OktaAuthenticator(okta_server.settings(auth_issuer=None, auth_jwks_url=None))


def test_production_refuses_a_plain_http_jwks_url(okta_server: OktaServer) -> None:
    with pytest.raises(ValueError):
        OktaAuthenticator(okta_server.settings(env="production"))


async def test_jwks_url_defaults_to_the_issuer_keys_endpoint(okta_server: OktaServer) -> None:
    verifier = OktaAuthenticator(okta_server.settings(auth_jwks_url=None))
    try:
        assert verifier.jwks_url == okta_server.jwks_url
        assert (await verifier.verify(okta_server.mint())).sub == SUB
    finally:
        await verifier.aclose()


async def test_aclose_leaves_a_borrowed_http_client_open(okta_settings: Settings) -> None:
    async with httpx.AsyncClient() as http:
        verifier = OktaAuthenticator(okta_settings, http=http)
        await verifier.aclose()
        assert not http.is_closed

