"""Structured JSON logs: one access line per request with its id, caller, operation, status and duration."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from gateway.core.logging import MARK, configure_logging, json_formatter
from gateway.http.media_types import GRAPHQL_RESPONSE
from tests.support.gateway import Gateway
from tests.support.hardening import ME

CREATE = 'mutation NewAdvertiser { createAdvertiser(input: {name: "Acme"}) { id } }'


@pytest.fixture
def caplog(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """caplog at INFO."""
    caplog.set_level(logging.INFO)
    return caplog


def access_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    """The access log records, rendered as the JSON handler renders them."""
    formatter = json_formatter()
    return [json.loads(formatter.format(r)) for r in caplog.records if r.name == "deal_desk.access"]


def rendered(caplog: pytest.LogCaptureFixture) -> str:
    """Every record, rendered as JSON."""
    formatter = json_formatter()
    return "\n".join(formatter.format(record) for record in caplog.records)


async def test_one_access_line_per_request_with_its_fields(gateway: Gateway,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    token = gateway.token("seller@x.test", "SELLER")
    response = await gateway.post(ME, token=token, headers={"x-request-id": "req-42"})
    [line] = access_lines(caplog)
    assert line.pop("duration_ms") >= 0 and line.pop("timestamp").endswith("Z")
    assert line == {
        "event": "request", "level": "info", "logger": "deal_desk.access", "request_id": "req-42",
        "method": "POST", "path": "/graphql", "user_id": response.json()["data"]["me"]["id"],
        "operation_type": "query", "operation_name": "Me", "status": 200,
    }


async def test_mutations_and_refusals_are_logged_without_the_token(gateway: Gateway,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    token = gateway.token("desk@x.test", "DEAL_DESK")
    created = await gateway.post(CREATE, token=token)
    refused = await gateway.post(ME, token=token[:-4] + "AAAA")
    unparsable = await gateway.post("{ me {", token=token, headers={"accept": GRAPHQL_RESPONSE})
    lines = access_lines(caplog)
    assert [(line["operation_type"], line["operation_name"], line["status"]) for line in lines] == [
        ("mutation", "NewAdvertiser", 200), (None, None, 401), (None, None, 400)]
    assert lines[1]["user_id"] is None and lines[0]["user_id"] == lines[2]["user_id"] is not None
    assert [line["request_id"] for line in lines] == [
        r.headers["x-request-id"] for r in (created, refused, unparsable)]
    assert token not in rendered(caplog) and token[:-4] not in rendered(caplog)


async def test_other_paths_get_an_access_line_too(gateway: Gateway, caplog: pytest.LogCaptureFixture) -> None:
    await gateway.client.get("/healthz")
    [line] = access_lines(caplog)
    assert (line["path"], line["status"], line["user_id"]) == ("/healthz", 200, None)
    assert line["operation_type"] is None


def test_stdlib_records_are_rendered_as_json(caplog: pytest.LogCaptureFixture) -> None:
    logging.getLogger("deal_desk.test").warning("store %s unavailable", "sqlite")
    [record] = [r for r in caplog.records if r.name == "deal_desk.test"]
    line = json.loads(json_formatter().format(record))
    assert {k: line[k] for k in ("event", "level", "logger")} == {
        "event": "store sqlite unavailable", "level": "warning", "logger": "deal_desk.test"}


def test_configuring_again_adds_no_second_handler(gateway: Gateway) -> None:
    configure_logging("WARNING")
    root = logging.getLogger()
    try:
        assert sum(bool(getattr(handler, MARK, False)) for handler in root.handlers) == 1
        assert root.level == logging.WARNING
    finally:
        configure_logging("INFO")
