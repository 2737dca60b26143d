"""DEAL_DESK_METRICS_PORT: `deal-desk serve` answers scrapes on that port only, for one worker or several."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from auth.dev import issue_token
from gateway.core.roles import Role
from gateway.core.settings import Settings
from tests.support.hardening import answers, wait_for

DEAL_DESK = str(Path(sys.executable).with_name("deal-desk"))


@pytest.mark.parametrize("workers", [1, 2])
def test_metrics_are_served_on_their_own_port_and_not_on_the_api_port(
    workers: int, database_url: str, tmp_path: Path, unused_tcp_port_factory: Callable[[], int],
) -> None:
    api, metrics = unused_tcp_port_factory(), unused_tcp_port_factory()
    key = tmp_path / "dev-key.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DEAL_DESK_", "PROMETHEUS_"))}
    env.update(DEAL_DESK_DATABASE_URL=database_url, DEAL_DESK_DEV_KEY_FILE=str(key),
               DEAL_DESK_METRICS_PORT=str(metrics), DEAL_DESK_LOG_LEVEL="WARNING")
    with (tmp_path / "serve.log").open("wb") as log:
        process = subprocess.Popen([DEAL_DESK, "serve", "--port", str(api), "--workers", str(workers)],
                                   env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: answers(f"http://127.0.0.1:{api}/readyz"), "readiness", process)
        settings = Settings(database_url=database_url, dev_key_file=str(key), _env_file=None)  # type: ignore[call-arg]
        token = issue_token(settings, email="desk@x.test", roles=[Role.DEAL_DESK])
        answered = httpx.post(f"http://127.0.0.1:{api}/graphql", json={"query": "{ me { id } }"},
                              headers={"authorization": f"Bearer {token}"}, timeout=30)
        assert answered.status_code == 200 and "errors" not in answered.json()
        assert httpx.get(f"http://127.0.0.1:{api}/metrics", timeout=10).status_code == 404
        scraped = httpx.get(f"http://127.0.0.1:{metrics}/metrics", timeout=10)
        assert scraped.status_code == 200
        assert 'deal_desk_graphql_requests_total{operation_type="query",status="200"} 1.0' in scraped.text
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)
