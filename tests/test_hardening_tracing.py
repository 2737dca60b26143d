"""OpenTelemetry tracing: no spans by default; with DEAL_DESK_OTEL_ENABLED, HTTP, GraphQL and SQL spans."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from opentelemetry.sdk.resources import SERVICE_NAME
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from gateway.core.settings import Settings
from gateway.tracing import provider
from gateway.tracing.http import HttpTracingMiddleware
from tests.support.gateway import Gateway
from tests.support.hardening import custom_gateway

SECRET = "needle-7f3a"  # a variable's value: it reaches SQL as a parameter, never a span
DEALS = """
query Deals($search: String) {
  deals(first: 5, filter: {search: $search}) { totalCount edges { node { id name owner { email } } } }
}"""
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


@pytest.fixture
def exporter(monkeypatch: pytest.MonkeyPatch) -> InMemorySpanExporter:
    """Spans of any gateway built in the test, kept in memory (exported as each span ends)."""
    memory = InMemorySpanExporter()
    monkeypatch.setattr(provider, "span_processor", lambda: SimpleSpanProcessor(memory))
    return memory


async def search_deals(gateway: Gateway, token: str, headers: dict[str, str] | None = None) -> None:
    """One Deals request searching for SECRET, which must succeed."""
    response = await gateway.post(DEALS, {"search": SECRET}, token=token, headers=headers)
    assert response.status_code == 200 and "errors" not in response.json(), response.text


def of_kind(spans: Sequence[ReadableSpan], kind: SpanKind) -> list[ReadableSpan]:
    """The spans of one kind."""
    return [span for span in spans if span.kind is kind]


def attribute_values(spans: Sequence[ReadableSpan]) -> str:
    """Every attribute value of `spans`, resource included, as one text."""
    values = [str(value) for span in spans for value in (span.attributes or {}).values()]
    values += [str(value) for span in spans for value in span.resource.attributes.values()]
    return "\n".join(values)


async def test_tracing_is_off_by_default(settings: Settings, exporter: InMemorySpanExporter) -> None:
    async with custom_gateway(settings) as gateway:
        await search_deals(gateway, gateway.token("desk@x.test", "DEAL_DESK"))
    assert not settings.otel_enabled
    assert all(middleware.cls is not HttpTracingMiddleware for middleware in gateway.app.user_middleware)
    assert exporter.get_finished_spans() == ()


async def test_a_graphql_request_has_request_operation_and_sql_spans(
        settings: Settings, exporter: InMemorySpanExporter) -> None:
    async with custom_gateway(settings, otel_enabled=True) as gateway:
        exporter.clear()  # the migration's statements
        await search_deals(gateway, gateway.token("desk@x.test", "DEAL_DESK"))
    spans = exporter.get_finished_spans()
    [request] = of_kind(spans, SpanKind.SERVER)
    [operation] = [span for span in spans if span.name == "query Deals"]
    statements = of_kind(spans, SpanKind.CLIENT)
    assert request.name == "POST /graphql"
    assert request.attributes is not None and request.attributes["http.response.status_code"] == 200
    assert operation.parent is not None and operation.parent.span_id == request.context.span_id
    assert operation.attributes == {"graphql.operation.type": "query", "graphql.operation.name": "Deals"}
    assert statements and {span.context.trace_id for span in spans} == {request.context.trace_id}
    assert any(span.parent is not None and span.parent.span_id == operation.context.span_id
               for span in statements)
    assert all(span.attributes and span.attributes["db.query.text"] for span in statements)


async def test_spans_carry_no_parameter_values_or_secrets(settings: Settings,
                                                          exporter: InMemorySpanExporter) -> None:
    async with custom_gateway(settings, otel_enabled=True) as gateway:
        token = gateway.token("desk@x.test", "DEAL_DESK")
        await search_deals(gateway, token)
    text = attribute_values(exporter.get_finished_spans())
    assert "SELECT" in text  # the statements are there...
    for secret in (SECRET, token, "desk@x.test", settings.database_url):
        assert secret not in text  # ...but no value bound to them, token, e-mail or store URL


async def test_a_request_continues_the_callers_trace(settings: Settings,
                                                     exporter: InMemorySpanExporter) -> None:
    async with custom_gateway(settings, otel_enabled=True) as gateway:
        await search_deals(gateway, gateway.token("desk@x.test", "DEAL_DESK"),
                           headers={"traceparent": TRACEPARENT})
    [request] = of_kind(exporter.get_finished_spans(), SpanKind.SERVER)
    assert format(request.context.trace_id, "032x") == TRACE_ID


def test_the_service_is_named_by_otel_service_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_RESOURCE_ATTRIBUTES", raising=False)
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    assert provider.resource().attributes[SERVICE_NAME] == "deal-desk-gateway"
    monkeypatch.setenv("OTEL_SERVICE_NAME", "deal-desk-eu")
    assert provider.resource().attributes[SERVICE_NAME] == "deal-desk-eu"
