"""An Okta stand-in for tests: real key pairs, a JWKS over real HTTP on 127.0.0.1, token minting.

Use from a conftest:  from tests.support.okta import okta_keys, okta_server, okta_settings
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from gateway.core.settings import DEFAULT_ROLE_MAP, Settings

AUDIENCE = "api://deal-desk"
ISSUER_PATH = "/oauth2/default"
SUB = "00u1dealdesk0alice"
EMAIL = "alice@example.com"
NAME = "Alice Example"
GROUPS = ("Everyone", "dealdesk-sellers")
REGION = "EMEA"

SigningKey = RSAKey | ECKey


def new_rsa_key(kid: str | None = None) -> RSAKey:
    """A fresh RSA 2048 signing key, published as Okta does (kid, alg RS256, use sig)."""
    params = {"kid": kid or f"rsa-{secrets.token_hex(6)}", "alg": "RS256", "use": "sig"}
    return RSAKey.generate_key(2048, parameters=params, private=True)  # type: ignore[arg-type]


def new_ec_key(kid: str | None = None) -> ECKey:
    """A fresh EC P-256 signing key (kid, alg ES256, use sig)."""
    params = {"kid": kid or f"ec-{secrets.token_hex(6)}", "alg": "ES256", "use": "sig"}
    return ECKey.generate_key("P-256", parameters=params, private=True)  # type: ignore[arg-type]


def b64url(data: bytes | str) -> str:
    """Unpadded base64url, as JWS segments are written."""
    raw = data.encode() if isinstance(data, str) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def forge(
    header: Mapping[str, Any], claims: Mapping[str, Any] | bytes,
    sign: Callable[[bytes], bytes] | None = None,
) -> str:
    """A compact JWS built by hand, for tokens joserfc refuses to sign (alg none, HS256 tricks)."""
    payload = claims if isinstance(claims, bytes) else json.dumps(dict(claims)).encode()
    signing_input = f"{b64url(json.dumps(dict(header)))}.{b64url(payload)}".encode()
    signature = sign(signing_input) if sign else b""
    return f"{signing_input.decode()}.{b64url(signature)}"


def hs256(secret: bytes) -> Callable[[bytes], bytes]:
    """A signer for `forge` that HMAC-SHA256s with `secret`."""
    return lambda data: hmac.new(secret, data, hashlib.sha256).digest()


def public_jwks(*keys: SigningKey) -> bytes:
    """The JWKS document publishing the public halves of `keys`."""
    return json.dumps({"keys": [key.as_dict(private=False) for key in keys]}).encode()


@dataclass(frozen=True)
class OktaKeys:
    """The default signing keys of an OktaServer."""

    rsa: RSAKey
    ec: ECKey


class _JwksHttpServer(ThreadingHTTPServer):
    daemon_threads = True
    okta: OktaServer


class _JwksHandler(BaseHTTPRequestHandler):
    server: _JwksHttpServer

    def do_GET(self) -> None:
        status, body = self.server.okta.respond(self.path)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: no access log on stderr."""


class OktaServer:
    """A JWKS endpoint on 127.0.0.1 (real HTTP, background thread) plus Okta-like token minting.

    `issuer` is `http://127.0.0.1:<port>/oauth2/default` and `jwks_url` is `{issuer}/v1/keys`,
    the URL Settings derives from the issuer. The served keys can be swapped (`serve`, `rotate`),
    the endpoint can be made to fail (`fail_with`) or stopped (`stop`), and `requests` counts
    the GET requests it received.
    """

    def __init__(self, keys: OktaKeys, *, audience: str = AUDIENCE) -> None:
        self.signing_key: SigningKey = keys.rsa
        self.rsa_key, self.ec_key = keys.rsa, keys.ec
        self.audience = audience
        self._lock = threading.Lock()
        self._jwks = public_jwks(keys.rsa, keys.ec)
        self._failure: tuple[int, bytes] | None = None
        self._requests = 0
        self._httpd = _JwksHttpServer(("127.0.0.1", 0), _JwksHandler)
        self._httpd.okta = self
        self._thread = threading.Thread(target=self._serve, name="okta-jwks", daemon=True)
        self._running = False
        self.issuer = f"http://127.0.0.1:{self._httpd.server_address[1]}{ISSUER_PATH}"
        self.jwks_url = f"{self.issuer}/v1/keys"

    @property
    def requests(self) -> int:
        """How many GET requests the endpoint has received."""
        with self._lock:
            return self._requests

    def start(self) -> None:
        """Start serving in a background thread."""
        self._thread.start()
        self._running = True

    def _serve(self) -> None:
        # A short poll interval so that stop() (shutdown) returns in milliseconds, not 0.5 s.
        self._httpd.serve_forever(poll_interval=0.01)

    def stop(self) -> None:
        """Stop serving and free the port: later connections are refused (an outage)."""
        if self._running:
            self._httpd.shutdown()
            self._running = False
        self._httpd.server_close()

    def respond(self, path: str) -> tuple[int, bytes]:
        """The (status, body) for one GET request; counts it."""
        with self._lock:
            self._requests += 1
            if path.split("?")[0] != f"{ISSUER_PATH}/v1/keys":
                return 404, b'{"errorCode": "E0000022"}'
            return self._failure or (200, self._jwks)

    def serve(self, *keys: SigningKey, raw: bytes | None = None) -> None:
        """Publish exactly `keys` from now on (or the `raw` body, for broken documents)."""
        body = raw if raw is not None else public_jwks(*keys)
        with self._lock:
            self._jwks = body

    def fail_with(self, status: int | None = 500, body: bytes = b'{"error": "boom"}') -> None:
        """Answer every request with `status` (None: serve the keys again)."""
        with self._lock:
            self._failure = None if status is None else (status, body)

    def rotate(self, *, keep_old: bool = False) -> RSAKey:
        """Switch to a new RSA signing key (new kid), published with the EC key; returns it."""
        old = self.rsa_key
        self.rsa_key = self.signing_key = new_rsa_key()
        self.serve(self.rsa_key, self.ec_key, *([old] if keep_old else []))
        return self.rsa_key

    def claims(self, *, now: float | None = None, lifetime_s: int = 3600, **overrides: Any) -> dict[str, Any]:
        """Okta-like access-token claims; overrides replace claims, None removes one."""
        issued = int(time.time() if now is None else now)
        base: dict[str, Any] = {
            "ver": 1, "jti": f"AT.{secrets.token_urlsafe(12)}", "iss": self.issuer,
            "aud": self.audience, "iat": issued, "nbf": issued, "exp": issued + lifetime_s,
            "cid": "0oadealdeskclient", "uid": SUB, "scp": ["openid", "profile", "email"],
            "sub": SUB, "email": EMAIL, "name": NAME, "groups": list(GROUPS), "region": REGION,
        }
        return _without_none({**base, **overrides})

    def mint(
        self, *, key: SigningKey | None = None, header: Mapping[str, Any] | None = None,
        now: float | None = None, lifetime_s: int = 3600, **claims: Any,
    ) -> str:
        """A token signed like Okta's (RS256 by default, ES256 with an EC key).

        `header` overrides header fields (None removes one, e.g. {"kid": None}); other keyword
        arguments override claims (None removes one, e.g. exp=None).
        """
        key = key or self.signing_key
        alg = "ES256" if isinstance(key, ECKey) else "RS256"
        fields = _without_none({"alg": alg, "kid": key.kid, **(header or {})})
        payload = self.claims(now=now, lifetime_s=lifetime_s, **claims)
        return jwt.encode(fields, payload, key, algorithms=[fields["alg"]], default_type=None)

    def settings(self, **overrides: Any) -> Settings:
        """Settings pointing Okta auth at this server; explicit, so DEAL_DESK_* cannot leak in."""
        values: dict[str, Any] = {
            "env": "development", "auth_issuer": self.issuer, "auth_jwks_url": self.jwks_url,
            "auth_audience": self.audience, "auth_groups_claim": "groups",
            "auth_region_claim": "region", "auth_role_map": dict(DEFAULT_ROLE_MAP),
        }
        return Settings(**{**values, **overrides})


def _without_none(values: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in values.items() if value is not None}


@pytest.fixture(scope="session")
def okta_keys() -> OktaKeys:
    """One RSA and one EC key pair per test session (RSA generation is slow)."""
    return OktaKeys(rsa=new_rsa_key(), ec=new_ec_key())


@pytest.fixture
def okta_server(okta_keys: OktaKeys) -> Iterator[OktaServer]:
    """A running OktaServer, stopped after the test."""
    server = OktaServer(okta_keys)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def okta_settings(okta_server: OktaServer) -> Settings:
    """Settings for Okta auth against `okta_server`."""
    return okta_server.settings()
