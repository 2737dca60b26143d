"""Structured logs: stdlib logging and structlog both end in one JSON line per event on stderr.

Every line logged while a request runs carries its fields (request id, then the caller's user id and
the operation once known) from structlog's context variables, and the trace and span ids when a span
is recording (DEAL_DESK_OTEL_ENABLED).
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from typing import Any

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

MARK = "_deal_desk_json"  # on our handler, so configuring again adds no second one


def add_trace_ids(_logger: WrappedLogger, _method: str, event: EventDict) -> EventDict:
    """The current span's trace and span ids, in the hex form tracing back ends show."""
    trace = sys.modules.get("opentelemetry.trace")
    if trace is None:  # tracing is off, and then OpenTelemetry is not even imported
        return event
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event.setdefault("trace_id", format(context.trace_id, "032x"))
        event.setdefault("span_id", format(context.span_id, "016x"))
    return event


@contextlib.contextmanager
def request_fields(**fields: Any) -> Iterator[None]:
    """Bind `fields` to every line logged inside; what the request binds later is dropped at its end too."""
    before = structlog.contextvars.get_contextvars()
    structlog.contextvars.bind_contextvars(**fields)
    try:
        yield
    finally:
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(**before)


def bind_fields(**fields: Any) -> None:
    """Add `fields` to the lines logged for the rest of the current request."""
    structlog.contextvars.bind_contextvars(**fields)


SHARED: list[Processor] = [
    structlog.contextvars.merge_contextvars,
    add_trace_ids,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def json_formatter() -> logging.Formatter:
    """Renders stdlib records and structlog events as JSON objects."""
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=SHARED,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info, structlog.processors.JSONRenderer()],
    )


def configure_logging(level: str = "INFO") -> None:
    """Route structlog through stdlib logging and put a JSON handler on the root logger (idempotent)."""
    structlog.configure(
        processors=[*SHARED, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    root = logging.getLogger()
    if not any(getattr(handler, MARK, False) for handler in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(json_formatter())
        setattr(handler, MARK, True)
        root.addHandler(handler)
    root.setLevel(level.upper())
