"""Every line logged in a request carries its request id, caller, operation and, when tracing, trace ids."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from gateway.core.logging import json_formatter, request_fields
from gateway.core.settings import Settings
from gateway.tracing import provider
from tests.support.gateway import Gateway
from tests.support.hardening import ME, custom_gateway

TOO_MANY = "query Page { advertisers(first: 501) { totalCount } }"  # BAD_USER_INPUT on `first`
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


class Lines(logging.Handler):
    """Each record rendered as the gateway's JSON handler renders it, when it is emitted."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(json_formatter())
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))

    def named(self, event: str) -> list[dict[str, Any]]:
        """The lines whose event is `event`."""
        return [line for line in self.lines if line["event"] == event]


@pytest.fixture
def lines() -> Iterator[Lines]:
    """The JSON lines logged during the test."""
    handler, root = Lines(), logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


async def test_an_error_line_carries_the_request_id_caller_and_operation_as_fields(
    gateway: Gateway, lines: Lines,
) -> None:
    token = gateway.token("seller@x.test", "SELLER")
    me = (await gateway.data_of(ME, token=token))["me"]["id"]
    response = await gateway.post(TOO_MANY, token=token, headers={"x-request-id": "req-7"})
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    [error] = lines.named("graphql error")
    assert {key: error[key] for key in ("request_id", "user_id", "operation_type", "operation_name",
                                        "code", "path", "logger")} == {
        "request_id": "req-7", "user_id": me, "operation_type": "query", "operation_name": "Page",
        "code": "BAD_USER_INPUT", "path": "advertisers", "logger": "deal_desk.graphql"}
    assert "trace_id" not in error  # tracing is off


async def test_a_request_does_not_inherit_the_caller_or_operation_of_the_one_before(
    gateway: Gateway, lines: Lines,
) -> None:
    await gateway.post(TOO_MANY, token=gateway.token("seller@x.test", "SELLER"))
    refused = await gateway.post(ME, token="not-a-token")
    assert refused.status_code == 401
    [line] = lines.named("request refused")
    assert line["request_id"] == refused.headers["x-request-id"]
    assert not {"user_id", "operation_name", "operation_type"} & line.keys()
    assert structlog.contextvars.get_contextvars() == {}  # nothing stays bound once a request is done


def test_stdlib_lines_inside_a_request_carry_its_fields(lines: Lines) -> None:
    with request_fields(request_id="req-9", user_id="u-1"):
        logging.getLogger("deal_desk.test").warning("store %s unavailable", "sqlite")
    logging.getLogger("deal_desk.test").warning("outside")
    inside, outside = lines.lines[-2:]
    assert (inside["event"], inside["request_id"], inside["user_id"]) == (
        "store sqlite unavailable", "req-9", "u-1")
    assert "request_id" not in outside


async def test_with_tracing_every_line_of_a_request_carries_its_trace_and_span_ids(
    settings: Settings, lines: Lines, monkeypatch: pytest.MonkeyPatch,
) -> None:
    memory = InMemorySpanExporter()
    monkeypatch.setattr(provider, "span_processor", lambda: SimpleSpanProcessor(memory))
    async with custom_gateway(settings, otel_enabled=True) as gateway:
        await gateway.post(TOO_MANY, token=gateway.token("seller@x.test", "SELLER"),
                           headers={"traceparent": TRACEPARENT})
    [error] = lines.named("graphql error")
    [access] = lines.named("request")
    assert error["trace_id"] == access["trace_id"] == TRACE_ID
    span_ids = {format(span.context.span_id, "016x") for span in memory.get_finished_spans()}
    assert error["span_id"] in span_ids and access["span_id"] in span_ids
