"""Verified tokens remembered briefly, so a client sending the same token again skips signature checks."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable

from auth.authenticator import Authenticator
from auth.principal import Claims

LIMIT = 10_000  # past this many tokens, the cache starts again empty


class CachedAuthenticator:
    """Wraps an Authenticator: a verified token's claims are reused for `ttl_s`, never past its `exp`.

    Only successful verifications are kept (refusals are checked again every time), and only until
    the signing keys change: an authenticator with a `keys_version` (Okta: bumped by every JWKS fetch)
    checks tokens again after a rotation. Tokens are kept as SHA-256 digests, not in clear.
    """

    def __init__(self, inner: Authenticator, ttl_s: float, clock: Callable[[], float] = time.time) -> None:
        self.inner, self.ttl_s, self.clock = inner, ttl_s, clock
        self._verified: dict[bytes, tuple[Claims, float, object]] = {}

    async def verify(self, token: str) -> Claims:
        """The token's claims: remembered while fresh, else verified by the wrapped authenticator."""
        key, now = hashlib.sha256(token.encode()).digest(), self.clock()
        known = self._verified.get(key)
        if known is not None and now < known[1] and known[2] == self._keys_version():
            return known[0]
        claims = await self.inner.verify(token)
        self._remember(key, claims, now, self._keys_version())  # the keys that verified it
        return claims

    async def aclose(self) -> None:
        """Close the wrapped authenticator."""
        await self.inner.aclose()

    def _keys_version(self) -> object:
        return getattr(self.inner, "keys_version", None)

    def _remember(self, key: bytes, claims: Claims, now: float, keys: object) -> None:
        until = now + self.ttl_s
        if claims.expires_at is not None:
            until = min(until, claims.expires_at)
        if until <= now:
            return
        if len(self._verified) >= LIMIT:
            self._verified.clear()
        self._verified[key] = (claims, until, keys)


def cached(authenticator: Authenticator, ttl_s: float) -> Authenticator:
    """`authenticator` behind a cache of verified tokens; itself when `ttl_s` is 0."""
    return CachedAuthenticator(authenticator, ttl_s) if ttl_s > 0 else authenticator
