"""Structured logs: stdlib logging and structlog both end in one JSON line per event on stderr."""

from __future__ import annotations

import logging
import sys

import structlog
from structlog.typing import Processor

MARK = "_deal_desk_json"  # on our handler, so configuring again adds no second one

SHARED: list[Processor] = [
    structlog.contextvars.merge_contextvars,
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
