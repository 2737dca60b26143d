"""Prometheus metrics: requests by operation type and status, errors by code, latency, pool in use."""

from __future__ import annotations

from collections.abc import Callable

from gateway.core.settings import Settings
from gateway.http.media_types import GRAPHQL_RESPONSE
from tests.support.gateway import Gateway
from tests.support.hardening import ME, custom_gateway, sample

CREATE = 'mutation { createAdvertiser(input: {name: "Acme"}) { id } }'


async def scrape(gateway: Gateway) -> Callable[..., float]:
    """A reader of one scrape of GET /metrics."""
    text = (await gateway.client.get("/metrics")).text
    return lambda name, **labels: sample(text, name, **labels)


async def test_requests_are_counted_by_operation_type_and_status(gateway: Gateway) -> None:
    token = gateway.token("desk@x.test", "DEAL_DESK")
    before = await scrape(gateway)
    await gateway.post(ME, token=token)
    await gateway.post(ME, token=token)
    await gateway.post(CREATE, token=token)
    await gateway.post("{ nope }", token=token, headers={"accept": GRAPHQL_RESPONSE})  # 400
    await gateway.post(ME)
    after = await scrape(gateway)
    name = "deal_desk_graphql_requests_total"
    for labels, count in [({"operation_type": "query", "status": "200"}, 2),
                          ({"operation_type": "mutation", "status": "200"}, 1),
                          ({"operation_type": "query", "status": "400"}, 1),
                          ({"operation_type": "none", "status": "401"}, 1)]:
        assert after(name, **labels) - before(name, **labels) == count, labels


async def test_errors_are_counted_by_code(settings: Settings) -> None:
    async with custom_gateway(settings, rate_limit_per_s=0.01, rate_limit_burst=2) as gateway:
        token = gateway.token("desk@x.test", "DEAL_DESK")
        before = await scrape(gateway)
        await gateway.post("{ nope }", token=token)
        await gateway.post('{ deal(id: "not-an-id") { id } }', token=token)
        await gateway.post(ME, token=token)  # over the limit
        await gateway.post(ME)
        after = await scrape(gateway)
    name = "deal_desk_graphql_errors_total"
    for code, count in [("GRAPHQL_VALIDATION_FAILED", 1), ("BAD_USER_INPUT", 1), ("RATE_LIMITED", 1),
                        ("UNAUTHENTICATED", 1)]:
        assert after(name, code=code) - before(name, code=code) == count, code


async def test_latency_is_observed_per_operation_type(gateway: Gateway) -> None:
    before = await scrape(gateway)
    await gateway.post(ME, token=gateway.token("a@x.test", "SELLER"))
    after = await scrape(gateway)
    name, labels = "deal_desk_graphql_request_duration_seconds_count", {"operation_type": "query"}
    assert after(name, **labels) - before(name, **labels) == 1
    assert after("deal_desk_graphql_request_duration_seconds_bucket", operation_type="query", le="+Inf") >= 1
    assert after("deal_desk_graphql_requests_in_flight") == 0


async def test_the_pool_gauge_reads_checked_out_connections_at_scrape_time(gateway: Gateway) -> None:
    store = gateway.app.state.db.dialect
    idle = (await scrape(gateway))("deal_desk_db_pool_in_use", store=store)
    with gateway.app.state.db.engine.connect():
        held = (await scrape(gateway))("deal_desk_db_pool_in_use", store=store)
    assert held - idle == 1
    assert (await scrape(gateway))("deal_desk_db_pool_in_use", store=store) == idle


async def test_the_metrics_endpoint_is_not_a_graphql_request(gateway: Gateway) -> None:
    before = await scrape(gateway)
    after = await scrape(gateway)
    assert after("deal_desk_graphql_requests_total", operation_type="none", status="200") == before(
        "deal_desk_graphql_requests_total", operation_type="none", status="200")
