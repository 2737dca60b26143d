"""The tracer provider: resource and exporter from the standard OTEL_* environment variables."""

from __future__ import annotations

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

DEFAULT_SERVICE_NAME = "deal-desk-gateway"


def tracer_provider() -> TracerProvider:
    """A provider sampling as OTEL_TRACES_SAMPLER says (default: every trace) and exporting its spans."""
    provider = TracerProvider(resource=resource())
    provider.add_span_processor(span_processor())
    return provider


def resource() -> Resource:
    """OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME, named deal-desk-gateway when they name no service."""
    detected = Resource.create()
    if str(detected.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        return detected.merge(Resource({SERVICE_NAME: DEFAULT_SERVICE_NAME}))
    return detected


def span_processor() -> SpanProcessor:
    """Spans batched to OTLP/HTTP at OTEL_EXPORTER_OTLP_ENDPOINT (default http://localhost:4318)."""
    return BatchSpanProcessor(OTLPSpanExporter())
