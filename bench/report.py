"""Results as a rich table and as JSON."""

from __future__ import annotations

import json
import os
import platform
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.load import Load
from bench.probe import Probe, Split

COLUMNS = ("operation", "clients", "stmts", "round trips", "seq p50 ms", "p50 ms", "p95 ms", "p99 ms",
           "req/s", "errors", "peak RSS MB", "SQL floor ms", "server CPU ms/req", "client CPU ms/req")


@dataclass
class Result:
    """Everything measured for one operation."""

    operation: str
    description: str
    statements: int  # served gateway: /metrics delta over one sequential request
    sequential_ms: float  # served gateway: median of the sequential requests
    probe: Probe
    loads: list[tuple[Load, float]] = field(default_factory=list)  # (load, peak RSS MiB during it)


def rows(result: Result) -> list[dict[str, Any]]:
    """One table row per load phase (client count) of `result`."""
    return [{
        "operation": result.operation, "clients": load.clients, "stmts": result.statements,
        "round trips": result.probe.round_trips, "seq p50 ms": result.sequential_ms,
        "p50 ms": load.percentile_ms(50), "p95 ms": load.percentile_ms(95), "p99 ms": load.percentile_ms(99),
        "req/s": load.throughput, "errors": f"{load.errors}/{len(load.samples)}", "peak RSS MB": peak,
        "SQL floor ms": result.probe.floor_ms,
        "server CPU ms/req": load.cpu_ms_per_request(load.server_cpu_s),
        "client CPU ms/req": load.cpu_ms_per_request(load.client_cpu_s),
    } for load, peak in result.loads]


def cell(value: Any) -> str:
    """A table cell: floats with one decimal."""
    return f"{value:,.1f}" if isinstance(value, float) else str(value)


def print_results(results: list[Result], split: Split | None, title: str) -> None:
    """The results table and, when measured, the export's time split."""
    table = Table(*COLUMNS, title=title)
    for result in results:
        for row in rows(result):
            table.add_row(*(cell(row[column]) for column in COLUMNS))
    console = Console(width=200)
    console.print(table)
    if split is not None:
        console.print(split_table(split))


def split_table(split: Split) -> Table:
    """Where the 500-deal export's time goes (in process, the median of 5 requests)."""
    title = f"dealExport500 time split ({split.response_bytes:,} bytes, in process)"
    table = Table("part", "ms", title=title)
    parts = {
        "request, wall": split.total_ms,
        "  SQL: store functions in worker threads (wall)": split.sql_ms,
        "  SQL: CPU of those threads": split.sql_cpu_ms,
        "  db.read waiting for its thread to start": split.read_wait_ms,
        "  schema.execute, wall": split.execute_ms,
        "  event-loop CPU: GraphQL execution (+ HTTP, auth)": split.graphql_cpu_ms,
        "  event-loop CPU: JSON encoding (orjson)": split.encode_ms,
        "  garbage collection (inside the lines above)": split.gc_ms,
    }
    for name, value in parts.items():
        table.add_row(name, cell(value))
    return table


def write_json(path: Path, results: list[Result], split: Split | None, settings: dict[str, Any]) -> None:
    """The results, the split and the run's settings and machine as JSON."""
    document = {
        "settings": settings,
        "machine": {"cpus": os.cpu_count(), "loadavg": os.getloadavg(), "python": platform.python_version(),
                    "platform": platform.platform()},
        "rows": [row for result in results for row in rows(result)],
        "operations": [{**{k: v for k, v in asdict(result.probe).items() if k != "sent"},
                        "operation": result.operation, "description": result.description,
                        "statements": result.statements, "sequential_ms": result.sequential_ms}
                       for result in results],
        "export_split": None if split is None else {**asdict(split), "graphql_cpu_ms": split.graphql_cpu_ms},
    }
    path.write_text(json.dumps(document, indent=2, default=str) + "\n")
