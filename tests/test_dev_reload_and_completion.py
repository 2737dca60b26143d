"""`deal-desk serve --reload` restarts the gateway on a source change; the shell completes commands."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import gateway.ops
from tests.support.hardening import answers, wait_for

DEAL_DESK = str(Path(sys.executable).with_name("deal-desk"))
WATCHED = Path(gateway.ops.__file__)  # touched, not changed: its mtime is what the watcher sees


def environment(tmp_path: Path, **variables: str) -> dict[str, str]:
    """The test's environment with a SQLite store in tmp_path and only `variables` besides."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEAL_DESK_")}
    return env | {"DEAL_DESK_DATABASE_URL": f"sqlite:///{tmp_path}/deal_desk.db", **variables}


def served_by(log: Path) -> list[str]:
    """The `Started server process [pid]` lines uvicorn logged so far."""
    return [line for line in log.read_text().splitlines() if "Started server process" in line]


def test_serve_reload_starts_a_new_gateway_process_when_a_source_file_changes(
    tmp_path: Path, unused_tcp_port: int,
) -> None:
    log, url = tmp_path / "serve.log", f"http://127.0.0.1:{unused_tcp_port}"
    with log.open("wb") as out:
        process = subprocess.Popen([DEAL_DESK, "serve", "--reload", "--port", str(unused_tcp_port)],
                                   env=environment(tmp_path), stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: answers(f"{url}/healthz"), "the first gateway process", process)
        [first] = served_by(log)
        os.utime(WATCHED)
        wait_for(lambda: len(served_by(log)) == 2 and answers(f"{url}/healthz"), "a reload", process)
        assert served_by(log)[1] != first
        [change] = [line for line in log.read_text().splitlines() if "WatchFiles detected changes" in line]
        assert "gateway/ops/__init__.py" in change
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(30)


def test_serve_reload_is_refused_in_production_and_with_workers(tmp_path: Path) -> None:
    for arguments, variables in ((["--reload"], {"DEAL_DESK_ENV": "production"}),
                                 (["--reload", "--workers", "2"], {})):
        done = subprocess.run([DEAL_DESK, "serve", *arguments], env=environment(tmp_path, **variables),
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 2 and "--reload" in done.stderr, done.stderr


def test_the_shell_completes_commands_and_options() -> None:
    def complete(words: str) -> list[str]:
        env = os.environ | {"_DEAL_DESK_COMPLETE": "complete_bash", "COMP_WORDS": words,
                            "COMP_CWORD": str(len(words.split()) - 1)}
        done = subprocess.run([DEAL_DESK], env=env, capture_output=True, text=True, timeout=60)
        return done.stdout.split()

    assert complete("deal-desk che") == ["check-config"]
    assert "--reload" in complete("deal-desk serve --")
    shown = subprocess.run([DEAL_DESK, "--show-completion", "bash"], capture_output=True, text=True,
                           timeout=60, env=os.environ | {"SHELL": "/bin/bash"})
    assert shown.returncode == 0 and "_DEAL_DESK_COMPLETE=complete_bash" in shown.stdout
