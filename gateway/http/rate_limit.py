"""Per-caller rate limit, after authentication: at most `burst` requests of one caller (a Principal's
`sub`) in any window of `burst / rate` seconds, so `rate` a second on average.

The counts live in Redis when one is configured (DEAL_DESK_EVENTS_URL), so the limit holds for a caller across
workers and replicas; otherwise in this process, and each worker and replica limits on its own. The `limits`
library keeps them (a moving window). When Redis does not answer, requests go through and a warning is
logged: the rate limit guards the store, it must not take the gateway down with Redis.
"""

from __future__ import annotations

import math
import time

import structlog
from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.core.errors import RateLimited
from gateway.http.replies import reply

log = structlog.get_logger("deal_desk.rate_limit")

KEY_PREFIX = "deal-desk:rate"


class CallerLimits:
    """The window of each caller: `take` a request from it, or learn how long to wait."""

    def __init__(self, rate: float, burst: int, redis_url: str | None = None) -> None:
        self.item: RateLimitItem = RateLimitItemPerSecond(burst, max(1, math.ceil(burst / rate)))
        self.limiter = MovingWindowRateLimiter(storage_of(redis_url))

    async def take(self, caller: str) -> float:
        """0 when the request fits the caller's window, else the seconds until it would."""
        try:
            if await self.limiter.hit(self.item, caller):
                return 0.0
            reset_at, _ = await self.limiter.get_window_stats(self.item, caller)
        except StorageError as error:
            log.warning("rate limit store unavailable: request let through",
                        error_type=type(error.storage_error).__name__)
            return 0.0
        return max(reset_at - time.time(), 0.001)


def storage_of(redis_url: str | None) -> Storage:
    """Redis shared by every worker and replica when configured, else this process's memory."""
    if not redis_url:
        return MemoryStorage()
    return RedisStorage(f"async+{redis_url}", implementation="redispy", wrap_exceptions=True,
                        key_prefix=KEY_PREFIX, socket_timeout=1.0, socket_connect_timeout=1.0)


class RateLimitMiddleware:
    """Answers 429 RATE_LIMITED with Retry-After when an authenticated caller is over the limit.

    Runs after BearerAuthMiddleware (the caller is scope["user"]); requests without one pass. Rate 0 turns
    it off.
    """

    def __init__(self, app: ASGIApp, *, rate: float, burst: int, redis_url: str | None = None) -> None:
        self.app = app
        self.limits = CallerLimits(rate, burst, redis_url) if rate > 0 else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        principal = scope.get("user") if scope["type"] == "http" else None
        if principal is None or self.limits is None or (wait := await self.limits.take(principal.sub)) <= 0:
            await self.app(scope, receive, send)
            return
        retry_after = max(1, math.ceil(wait))
        log.info("rate limited", user_id=principal.user_id)
        error = RateLimited(f"Too many requests; retry in {retry_after} s.", retryAfterSeconds=retry_after)
        await reply(send, 429, error, {"retry-after": str(retry_after)})
