"""Per-caller rate limit: a token bucket per Principal; over it, 429 RATE_LIMITED with Retry-After."""

from __future__ import annotations

from gateway.core.settings import Settings
from gateway.http.rate_limit import MAX_BUCKETS, TokenBuckets
from tests.support.hardening import ME, custom_gateway, error_of


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_caller_over_the_burst_gets_429_with_retry_after(settings: Settings) -> None:
    async with custom_gateway(settings, rate_limit_per_s=0.5, rate_limit_burst=3) as gateway:
        token = gateway.token("seller@x.test", "SELLER")
        allowed = [await gateway.post(ME, token=token) for _ in range(3)]
        refused = await gateway.post(ME, token=token)
    assert [response.status_code for response in allowed] == [200, 200, 200]
    assert error_of(refused) == (429, "RATE_LIMITED", "Too many requests; retry in 2 s.")
    assert refused.headers["retry-after"] == "2"
    assert refused.json()["errors"][0]["extensions"] == {"code": "RATE_LIMITED", "retryAfterSeconds": 2}


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


def test_a_bucket_refills_at_the_rate_up_to_the_burst() -> None:
    clock = Clock()
    buckets = TokenBuckets(rate=2.0, burst=2, clock=clock)
    assert [buckets.take("a"), buckets.take("a")] == [0.0, 0.0]
    assert buckets.take("a") == 0.5  # one token comes every half second
    clock.now += 0.5
    assert buckets.take("a") == 0.0
    clock.now += 60
    assert [buckets.take("a"), buckets.take("a"), buckets.take("a")] == [0.0, 0.0, 0.5]


def test_idle_buckets_are_forgotten_when_there_are_too_many() -> None:
    clock = Clock()
    buckets = TokenBuckets(rate=1.0, burst=10, clock=clock)
    for n in range(MAX_BUCKETS):
        buckets.take(f"user{n}")
    clock.now += 10  # every bucket has refilled
    buckets.take("busy")
    buckets.take("newcomer")
    assert set(buckets.buckets) == {"busy", "newcomer"}
