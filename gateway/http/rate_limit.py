"""Per-caller rate limit: a token bucket in memory for each Principal's `sub`, after authentication."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import structlog
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.core.errors import RateLimited
from gateway.http.replies import reply

log = structlog.get_logger("deal_desk.rate_limit")

MAX_BUCKETS = 10_000  # past this many callers, full (idle) buckets are dropped


@dataclass
class Bucket:
    """Tokens left and when they were counted."""

    tokens: float
    counted_at: float


class TokenBuckets:
    """One bucket per key: refills `rate` tokens a second up to `burst`; each request takes one."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst, self.clock = rate, burst, clock
        self.buckets: dict[str, Bucket] = {}

    def take(self, key: str) -> float:
        """0 when a token was taken, else the seconds until the next one."""
        now = self.clock()
        bucket = self.buckets.get(key) or self._new(key, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.counted_at) * self.rate)
        bucket.counted_at = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self.rate

    def _new(self, key: str, now: float) -> Bucket:
        if len(self.buckets) >= MAX_BUCKETS:
            self._drop_full(now)
        bucket = self.buckets[key] = Bucket(float(self.burst), now)
        return bucket

    def _drop_full(self, now: float) -> None:
        """Forget buckets that have refilled: a new one starts full anyway."""
        refill_s = self.burst / self.rate
        self.buckets = {key: b for key, b in self.buckets.items() if now - b.counted_at < refill_s}


class RateLimitMiddleware:
    """Answers 429 RATE_LIMITED with Retry-After when an authenticated caller is over the limit.

    Runs after BearerAuthMiddleware (the caller is scope["user"]); requests without one pass.
    Rate 0 turns it off. The buckets live in this process: each replica limits on its own.
    """

    def __init__(self, app: ASGIApp, *, rate: float, burst: int) -> None:
        self.app = app
        self.buckets = TokenBuckets(rate, burst) if rate > 0 else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        principal = scope.get("user") if scope["type"] == "http" else None
        if principal is None or self.buckets is None or (wait := self.buckets.take(principal.sub)) <= 0:
            await self.app(scope, receive, send)
            return
        retry_after = max(1, math.ceil(wait))
        log.info("rate limited", user_id=principal.user_id)
        error = RateLimited(f"Too many requests; retry in {retry_after} s.", retryAfterSeconds=retry_after)
        await reply(send, 429, error, {"retry-after": str(retry_after)})
