"""`deal-desk serve --workers 2`: both workers serve one port and /metrics counts every worker's work."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.mmap_dict import MmapedDict

from tests.support.workers import workers_serving

ME = {"query": "{ me { id } }"}
REQUESTS_TOTAL = re.compile(
    r'^deal_desk_graphql_requests_total\{operation_type="query",status="200"\} (\S+)$', re.M)
MAX_REQUESTS = 200  # both workers answer long before this


@pytest.fixture
def served(database_url: str, tmp_path: Path, unused_tcp_port: int,
           ) -> Iterator[tuple[str, Path, str, list[int]]]:
    """`serve --workers 2` on a fresh store."""
    with workers_serving(database_url, tmp_path, unused_tcp_port) as serving:
        yield serving


def test_every_request_is_counted_whichever_worker_answered(
    served: tuple[str, Path, str, list[int]],
) -> None:
    url, metrics_dir, token, workers = served
    sent = 0
    # A new connection each time: the kernel hands each to either worker, so go on until both answered.
    while sent < MAX_REQUESTS and not set(workers) <= counting(metrics_dir):
        response = httpx.post(f"{url}/graphql", json=ME, headers={"authorization": f"Bearer {token}"})
        assert response.status_code == 200 and "errors" not in response.json()
        sent += 1

    scraped = httpx.get(f"{url}/metrics").text

    assert len(workers) == 2 and set(workers) <= counting(metrics_dir)
    assert float(REQUESTS_TOTAL.findall(scraped)[0]) == sent


def counting(metrics_dir: Path) -> set[int]:
    """The processes whose counters in the shared metrics directory hold an answered /graphql request."""
    answered = set()
    for file in metrics_dir.glob("counter_*.db"):
        values = MmapedDict.read_all_values_from_file(str(file))
        if any('"deal_desk_graphql_requests"' in key and value > 0 for key, value, *_ in values):
            answered.add(int(file.name.removeprefix("counter_").removesuffix(".db")))
    return answered


def test_the_rate_limit_holds_for_a_caller_across_workers(
        database_url: str, tmp_path: Path, unused_tcp_port: int, redis_url: str) -> None:
    shared = {"DEAL_DESK_EVENTS_URL": redis_url, "DEAL_DESK_RATE_LIMIT_PER_S": "0.01",
              "DEAL_DESK_RATE_LIMIT_BURST": "3"}  # 3 requests per 300 s, counted in Redis
    caller = f"desk-{uuid.uuid4().hex}@x.test"  # a window of its own in the shared Redis
    with workers_serving(database_url, tmp_path, unused_tcp_port, caller, **shared) as served:
        url, metrics, token, workers = served
        sent = {"authorization": f"Bearer {token}"}
        # A new connection each: the kernel hands them to either worker.
        statuses = [httpx.post(f"{url}/graphql", json=ME, headers=sent).status_code for _ in range(40)]
        asked = answering(metrics)

    assert len(workers) == 2 and set(workers) <= asked  # both workers were asked
    assert statuses.count(200) == 3 and statuses.count(429) == 37


def answering(metrics_dir: Path) -> set[int]:
    """The processes that answered a /graphql request or refused one (429s count as errors)."""
    counted = ('"deal_desk_graphql_requests"', '"deal_desk_graphql_errors"')
    found = set()
    for file in metrics_dir.glob("counter_*.db"):
        values = MmapedDict.read_all_values_from_file(str(file))
        if any(any(name in key for name in counted) and value > 0 for key, value, *_ in values):
            found.add(int(file.name.removeprefix("counter_").removesuffix(".db")))
    return found
