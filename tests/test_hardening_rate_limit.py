"""Per-caller rate limit: `burst` requests per window of burst/rate seconds; over it, 429 RATE_LIMITED with
Retry-After."""

from __future__ import annotations

import asyncio
import socket

from gateway.core.settings import Settings
from gateway.http.rate_limit import CallerLimits
from tests.support.hardening import ME, custom_gateway, error_of


async def test_a_caller_over_the_burst_gets_429_with_retry_after(settings: Settings) -> None:
    async with custom_gateway(settings, rate_limit_per_s=0.5, rate_limit_burst=3) as gateway:
        token = gateway.token("seller@x.test", "SELLER")
        allowed = [await gateway.post(ME, token=token) for _ in range(3)]
        refused = await gateway.post(ME, token=token)
    assert [response.status_code for response in allowed] == [200, 200, 200]
    assert error_of(refused) == (429, "RATE_LIMITED", "Too many requests; retry in 6 s.")  # 3 per 6 s
    assert refused.headers["retry-after"] == "6"
    assert refused.json()["errors"][0]["extensions"] == {"code": "RATE_LIMITED", "retryAfterSeconds": 6}


async def test_each_caller_has_a_bucket_of_their_own(settings: Settings) -> None:
    async with custom_gateway(settings, rate_limit_per_s=0.5, rate_limit_burst=1) as gateway:
        first, second = gateway.token("a@x.test", "SELLER"), gateway.token("b@x.test", "SELLER")
        assert (await gateway.post(ME, token=first)).status_code == 200
        assert (await gateway.post(ME, token=first)).status_code == 429
        assert (await gateway.post(ME, token=second)).status_code == 200


async def test_refused_and_unauthenticated_requests_take_no_token(settings: Settings) -> None:
    async with custom_gateway(settings, rate_limit_per_s=0.5, rate_limit_burst=1) as gateway:
        for _ in range(3):
            assert (await gateway.post(ME)).status_code == 401
            assert (await gateway.client.get("/healthz")).status_code == 200
        assert (await gateway.post(ME, token=gateway.token("a@x.test", "SELLER"))).status_code == 200


async def test_a_rate_of_zero_turns_the_limit_off(settings: Settings) -> None:
    async with custom_gateway(settings, rate_limit_per_s=0, rate_limit_burst=1) as gateway:
        token = gateway.token("a@x.test", "SELLER")
        statuses = {(await gateway.post(ME, token=token)).status_code for _ in range(5)}
    assert statuses == {200}


async def test_the_default_limit_lets_a_burst_of_100_through(settings: Settings) -> None:
    assert (settings.rate_limit_per_s, settings.rate_limit_burst) == (20.0, 100)
    async with custom_gateway(settings) as gateway:
        token = gateway.token("a@x.test", "SELLER")
        statuses = {(await gateway.post(ME, token=token)).status_code for _ in range(100)}
    assert statuses == {200}


async def test_a_window_lets_the_burst_through_then_says_when_the_next_request_fits() -> None:
    limits = CallerLimits(rate=2.0, burst=2)  # two requests a second
    assert [await limits.take("a"), await limits.take("a")] == [0.0, 0.0]
    wait = await limits.take("a")
    assert 0 < wait <= 1.0
    assert await limits.take("b") == 0.0  # another caller, another window
    await asyncio.sleep(wait + 0.05)
    assert await limits.take("a") == 0.0


async def test_an_unreachable_redis_lets_requests_through() -> None:
    limits = CallerLimits(rate=0.5, burst=1, redis_url=f"redis://127.0.0.1:{closed_port()}/0")
    assert [await limits.take("a"), await limits.take("a")] == [0.0, 0.0]


def closed_port() -> int:
    """A loopback port nobody listens on."""
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return int(probe.getsockname()[1])
