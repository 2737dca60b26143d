"""Graceful shutdown: SIGTERM lets the request in flight finish with 200, then `deal-desk serve` exits 0."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from auth.dev import issue_token
from gateway.core.roles import Role
from gateway.core.settings import Settings
from tests.support.hardening import answers, bearer, sample, wait_for
from tests.test_deal import DEAL_FIELDS

DEAL_DESK = str(Path(sys.executable).with_name("deal-desk"))
PAGES = 4  # four 500-deal pages with every nested list: a few seconds of work
EXPORT = DEAL_FIELDS + "query Export {\n" + "\n".join(
    f"  page{n}: deals(first: 500) {{ edges {{ node {{ ...DealFields }} }} }}" for n in range(PAGES)) + "\n}"
TIMEOUT_S = 60.0


def in_flight(base: str) -> bool:
    """True while a /graphql request is being answered."""
    return sample(httpx.get(f"{base}/metrics", timeout=5).text, "deal_desk_graphql_requests_in_flight") >= 1


def json_lines(path: Path) -> list[dict[str, Any]]:
    """The JSON log lines of the server."""
    return [json.loads(line) for line in path.read_text().splitlines() if line.startswith("{")]


@pytest.fixture
def environment(tmp_path: Path) -> dict[str, str]:
    """A seeded SQLite store, dev auth, and a cost budget that lets the big export through."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("DEAL_DESK_")}
    env |= {"DEAL_DESK_DATABASE_URL": f"sqlite:///{tmp_path}/deal_desk.db",
            "DEAL_DESK_DEV_KEY_FILE": str(tmp_path / "dev-key.json"), "DEAL_DESK_QUERY_MAX_COST": "10000000"}
    subprocess.run([DEAL_DESK, "seed", "--scale", "1"], env=env, check=True, capture_output=True)
    return env


def test_sigterm_lets_the_request_in_flight_finish(environment: dict[str, str], tmp_path: Path,
                                                   unused_tcp_port: int) -> None:
    settings = Settings(database_url=environment["DEAL_DESK_DATABASE_URL"],
                        dev_key_file=environment["DEAL_DESK_DEV_KEY_FILE"], _env_file=None)  # type: ignore[call-arg]
    token = issue_token(settings, email="admin@dealdesk.example", roles=[Role.ADMIN])
    base, log = f"http://127.0.0.1:{unused_tcp_port}", tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen([DEAL_DESK, "serve", "--port", str(unused_tcp_port)], env=environment,
                                   stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: answers(f"{base}/readyz"), "readiness", process)
        with ThreadPoolExecutor(1) as pool:
            slow = pool.submit(httpx.post, f"{base}/graphql", json={"query": EXPORT}, headers=bearer(token),
                               timeout=TIMEOUT_S)
            wait_for(lambda: in_flight(base), "the export to start", process)
            process.send_signal(signal.SIGTERM)
            response = slow.result()
        assert process.wait(TIMEOUT_S) == 0
    finally:
        if process.poll() is None:
            process.kill()
    body = response.json()
    assert response.status_code == 200 and "errors" not in body
    assert all(len(body["data"][f"page{n}"]["edges"]) == 500 for n in range(PAGES))
    lines = json_lines(log)
    shutting_down = next(line for line in lines if line["event"] == "Shutting down")
    [export] = [line for line in lines if line.get("operation_name") == "Export"]
    assert export["status"] == 200
    assert export["timestamp"] > shutting_down["timestamp"]  # it finished after SIGTERM
    assert token not in log.read_text()
