"""Helpers of the hardening tests: a gateway on changed settings, raw requests and metric samples."""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from gateway.app import create_app
from gateway.core.settings import Settings
from gateway.store.migrate import migrate
from tests.support.gateway import Gateway

ME = "query Me { me { id } }"


@contextlib.asynccontextmanager
async def custom_gateway(settings: Settings, **changes: Any) -> AsyncIterator[Gateway]:
    """The real app on the test's store with `changes` to its settings."""
    changed = settings.model_copy(update=changes)
    app = create_app(changed)
    migrate(app.state.db.engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
        yield Gateway(app, client, changed)
    app.state.db.dispose()


def error_of(response: httpx.Response) -> tuple[int, str, str]:
    """Status, `extensions.code` and message of a response carrying exactly one GraphQL error."""
    errors = response.json()["errors"]
    assert len(errors) == 1, errors
    return response.status_code, errors[0]["extensions"]["code"], errors[0]["message"]


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in a Prometheus exposition (0 when absent)."""
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == name and all(found.labels.get(k) == v for k, v in labels.items()):
                return float(found.value)
    return 0.0


def bearer(token: str) -> dict[str, str]:
    """The Authorization header of `token`."""
    return {"authorization": f"Bearer {token}"}


def ids(count: int) -> str:
    """A selection of `count` id fields, for documents of a chosen size."""
    return " ".join(["id"] * count)


def nested(levels: int) -> str:
    """A deal query nesting deal → approvals → deal ... `levels` times."""
    inner = "id"
    for _ in range(levels):
        inner = f"approvals {{ deal {{ {inner} }} }}"
    return f'{{ deal(id: "01900000-0000-7000-8000-000000000000") {{ {inner} }} }}'


def wait_for(condition: Callable[[], bool], what: str, process: subprocess.Popen[bytes],
             timeout_s: float = 60.0) -> None:
    """Poll `condition` until it holds; fail if the server exits or time runs out."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert process.poll() is None, f"deal-desk serve exited before {what}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def answers(url: str) -> bool:
    """True once GET url answers 200."""
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.TransportError:
        return False
