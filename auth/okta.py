"""Okta auth: verifies Okta access tokens (RS256/ES256) against the issuer's JWKS."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any, cast

import httpx
import structlog
from joserfc import jws, jwt
from joserfc.errors import BadSignatureError, ClaimError, ExpiredTokenError, JoseError
from joserfc.jwk import ECKey, Key, KeySet, KeySetSerialization, RSAKey
from joserfc.jws import JWSRegistry
from joserfc.jwt import JWTClaimsRegistry

from auth.claims import to_claims
from auth.errors import AuthenticationError, AuthUnavailable
from auth.principal import Claims
from gateway.core.settings import Settings

log = structlog.get_logger("deal_desk.auth")

ALGORITHMS = ("RS256", "ES256")
CLOCK_SKEW_S = 60
FETCH_TIMEOUT_S = 5.0
REFETCH_INTERVAL_S = 30.0
MAX_KEY_AGE_S = 3600.0
COLD_RETRY_S = 5.0

# Not strict about header names so a new, non-critical header from Okta cannot lock everyone
# out; `crit` headers are still enforced, and alg/kid are checked before this is used.
_JWS_REGISTRY = JWSRegistry(algorithms=ALGORITHMS, strict_check_header=False)


class OktaAuthenticator:
    """Verifies Okta access tokens with keys from the issuer's JWKS, cached in memory."""

    def __init__(
        self, settings: Settings, *, http: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.time, timeout_s: float = FETCH_TIMEOUT_S,
        refetch_interval_s: float = REFETCH_INTERVAL_S, max_key_age_s: float = MAX_KEY_AGE_S,
    ) -> None:
        self.settings = settings
        self.jwks_url = _jwks_url_of(settings)
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(timeout=timeout_s)
        self._clock, self._timeout = clock, timeout_s
        self._refetch_interval, self._max_age = refetch_interval_s, max_key_age_s
        self._registry = _claims_registry(settings, clock)
        self._keys: KeySet | None = None
        self.keys_version = 0  # counts JWKS fetches: tokens verified before one are checked again
        self._fetched_at = 0.0
        self._last_attempt: float | None = None
        self._last_forced: float | None = None
        self._attempts = 0
        self._lock = asyncio.Lock()

    async def verify(self, token: str) -> Claims:
        """Claims of a valid Okta access token; AuthenticationError or AuthUnavailable if not."""
        kid, alg = _unverified_header(token)
        key = await self._signing_key(kid, alg)
        payload = self._verified_payload(token, key)
        return to_claims(payload, self.settings)

    async def aclose(self) -> None:
        """Close the HTTP client if this authenticator created it."""
        if self._owns_http:
            await self._http.aclose()

    async def _signing_key(self, kid: str, alg: str) -> Key:
        key = _find_key(await self._usable_keys(), kid, alg)
        if key is None:
            # Unknown kid: Okta may have rotated its keys; refetch (rate-limited) and look again.
            await self._refresh(forced=True)
            key = _find_key(await self._usable_keys(), kid, alg)
        if key is None:
            raise _refuse("unknown signing key", "unknown kid", logging.WARNING)
        return key

    async def _usable_keys(self) -> KeySet:
        if self._wants_refresh():
            await self._refresh(forced=False)
        if self._keys is None:
            log.warning("token not checked: no signing keys available from the JWKS")
            raise AuthUnavailable("signing keys unavailable")
        return self._keys

    def _wants_refresh(self) -> bool:
        # Past max age one task refreshes; the others keep using the cached keys meanwhile.
        return self._keys is None or (self._is_stale() and not self._lock.locked())

    def _is_stale(self) -> bool:
        age = self._clock() - self._fetched_at
        return age < 0 or age >= self._max_age

    async def _refresh(self, *, forced: bool) -> None:
        """Fetch the JWKS unless another task just did, or the rate limit says wait."""
        seen = self._attempts
        async with self._lock:
            if self._attempts != seen or not self._may_fetch(forced):
                return
            self._attempts += 1
            self._last_attempt = self._clock()
            if forced:
                self._last_forced = self._last_attempt
            await self._fetch()

    def _may_fetch(self, forced: bool) -> bool:
        now = self._clock()
        if forced:
            return _waited(now, self._last_forced, self._refetch_interval)
        interval = self._refetch_interval if self._keys is not None else COLD_RETRY_S
        return _waited(now, self._last_attempt, interval)

    async def _fetch(self) -> None:
        try:
            response = await self._http.get(self.jwks_url, timeout=self._timeout)
            response.raise_for_status()
            keys = _parse_jwks(response.json())
        except (httpx.HTTPError, JoseError, ValueError, TypeError, KeyError) as error:
            kept = "keeping cached keys" if self._keys is not None else "no keys cached"
            log.warning("JWKS fetch failed", error_type=type(error).__name__, keys=kept)
            return
        self._keys, self._fetched_at = keys, self._clock()
        self.keys_version += 1
        log.info("JWKS fetched", signing_keys=len(keys.keys))

    def _verified_payload(self, token: str, key: Key) -> dict[str, Any]:
        try:
            # The registry allows RS256/ES256 only; the header's alg must also suit `key`.
            decoded = jwt.decode(token, key, registry=_JWS_REGISTRY)
        except BadSignatureError as error:
            raise _refuse("invalid token signature", "bad signature", logging.WARNING) from error
        except (JoseError, ValueError, TypeError) as error:
            raise _refuse("malformed token", type(error).__name__) from error
        try:
            self._registry.validate(decoded.claims)
        except ExpiredTokenError as error:
            raise _refuse("token expired", "expired") from error
        except ClaimError as error:
            raise _refuse("invalid token claims", f"{type(error).__name__} {error.claim}") from error
        return decoded.claims


def _jwks_url_of(settings: Settings) -> str:
    """The JWKS URL; refuses a missing issuer and, in production, plain HTTP."""
    if not settings.auth_issuer or not settings.jwks_url:
        raise ValueError("Okta auth needs DEAL_DESK_AUTH_ISSUER")
    if settings.is_production and not settings.jwks_url.startswith("https://"):
        raise ValueError("DEAL_DESK_AUTH_JWKS_URL must use https in production")
    return settings.jwks_url


def _claims_registry(settings: Settings, clock: Callable[[], float]) -> JWTClaimsRegistry:
    """Checks iss, aud, exp (required), sub, and nbf/iat when present, with clock skew."""
    return JWTClaimsRegistry(
        now=lambda: int(clock()), leeway=CLOCK_SKEW_S,
        iss={"essential": True, "value": settings.auth_issuer or ""},
        aud={"essential": True, "value": settings.auth_audience},
        exp={"essential": True}, sub={"essential": True},
    )


def _unverified_header(token: str) -> tuple[str, str]:
    """The (kid, alg) a token names, after refusing malformed tokens and other algorithms."""
    try:
        header: object = jws.extract_compact(token.encode(), registry=_JWS_REGISTRY).headers()
    except (JoseError, ValueError, TypeError) as error:
        raise _refuse("malformed token", type(error).__name__) from error
    if not isinstance(header, dict):
        raise _refuse("malformed token", "header is not an object")
    alg, kid = header.get("alg"), header.get("kid")
    if not isinstance(alg, str) or alg not in ALGORITHMS:
        raise _refuse("unsupported token algorithm", "alg not allowed", logging.WARNING)
    if not isinstance(kid, str) or not kid:
        raise _refuse("token has no key id", "missing kid")
    return kid, alg


def _find_key(keys: KeySet, kid: str, alg: str) -> Key | None:
    try:
        return keys.get_by_kid(kid, {"alg": alg, "use": "sig"})
    except JoseError:
        return None


def _parse_jwks(data: object) -> KeySet:
    """The RSA and EC keys of a JWKS document; anything else in it is ignored."""
    if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
        raise ValueError("not a JWKS document")
    imported = KeySet.import_key_set(cast(KeySetSerialization, data))
    keys: list[Key] = [key for key in imported.keys if isinstance(key, RSAKey | ECKey)]
    if not keys:
        raise ValueError("JWKS has no RSA or EC keys")
    return KeySet(keys)


def _waited(now: float, since: float | None, interval: float) -> bool:
    # A clock that went backwards counts as "waited", so the cache cannot freeze.
    return since is None or not 0 <= now - since < interval


def _refuse(message: str, reason: str, level: int = logging.INFO) -> AuthenticationError:
    """Log why a token was refused (never the token) and build the error to raise."""
    log.log(level, "token refused", reason=reason)
    return AuthenticationError(message)


def signing_keys_served(settings: Settings, timeout_s: float = 5.0) -> int:
    """How many RSA and EC signing keys the configured JWKS serves now (`deal-desk check-config`)."""
    response = httpx.get(_jwks_url_of(settings), timeout=timeout_s)
    response.raise_for_status()
    return len(_parse_jwks(response.json()).keys)
