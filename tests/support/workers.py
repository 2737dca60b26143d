"""`deal-desk serve --workers 2` as a real process tree on a loopback port."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from auth.dev import issue_token
from gateway.core.roles import Role
from gateway.core.settings import Settings
from tests.support.hardening import answers, wait_for

DEAL_DESK = Path(sys.executable).parent / "deal-desk"


@contextlib.contextmanager
def workers_serving(database_url: str, tmp_path: Path, port: int, email: str = "desk@x.test",
                    **env: str) -> Iterator[tuple[str, Path, str, list[int]]]:
    """(base URL, metrics directory, token, worker pids) of `serve --workers 2` on the store, with `env`."""
    metrics_dir, key = tmp_path / "metrics", tmp_path / "dev-key.json"
    metrics_dir.mkdir()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DEAL_DESK_")}
    environment.update(DEAL_DESK_DATABASE_URL=database_url, DEAL_DESK_DEV_KEY_FILE=str(key),
                       PROMETHEUS_MULTIPROC_DIR=str(metrics_dir), DEAL_DESK_LOG_LEVEL="WARNING", **env)
    command = [str(DEAL_DESK), "serve", "--port", str(port), "--workers", "2"]
    with (tmp_path / "serve.log").open("wb") as log:
        process = subprocess.Popen(command, env=environment, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: answers(f"{url}/readyz"), "readiness", process)
        settings = Settings(database_url=database_url, dev_key_file=str(key), _env_file=None)  # type: ignore[call-arg]
        token = issue_token(settings, email=email, roles=[Role.DEAL_DESK])
        yield url, metrics_dir, token, workers_of(process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)


def workers_of(pid: int) -> list[int]:
    """The worker processes uvicorn spawned (not multiprocessing's resource tracker)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in children if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes()]
