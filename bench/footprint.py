"""Installed size and memory per worker: `python -m bench.footprint [--venv .venv] [--workers 2]`.

Reports the distributions and megabytes installed in the venv's site-packages, then runs that venv's
`deal-desk serve --workers N` on a fresh SQLite store seeded at scale 1 and reads each worker's RSS
(/proc, Linux) once it is ready and again after a round of deal-list requests. The README's figures.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

LIST = '{"query": "{ deals(first: 50) { totalCount edges { node { dealNumber owner { displayName } } } } }"}'
REQUESTS = 200


def installed(venv: Path) -> dict[str, float]:
    """Distributions (pip itself left out) and megabytes in the venv's site-packages."""
    probe = ("import importlib.metadata as m, json, site; "
             "names = {d.metadata['Name'].lower() for d in m.distributions()} - {'pip', 'setuptools'}; "
             "print(json.dumps([len(names), site.getsitepackages()[0]]))")
    count, site = json.loads(subprocess.check_output([str(venv / "bin" / "python"), "-c", probe]))
    size = sum(f.stat().st_size for f in Path(site).rglob("*") if f.is_file() and not f.is_symlink())
    return {"distributions": count, "site_packages_mb": round(size / 2**20)}


def rss_mb(pid: int) -> float:
    """The resident set of process `pid`."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError(f"no VmRSS for {pid}")


def workers_of(pid: int) -> list[int]:
    """uvicorn's worker processes under the supervisor `pid`."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(c) for c in children if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()]


def get(url: str, body: str | None = None, token: str | None = None) -> int:
    """The status of one request (0 when nothing answers yet)."""
    headers = {"content-type": "application/json", **({"authorization": f"Bearer {token}"} if token else {})}
    request = urllib.request.Request(url, data=body.encode() if body else None, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except OSError:
        return 0


def serving(venv: Path, workers: int) -> dict[str, list[float]]:
    """RSS of each worker when ready and after REQUESTS deal lists."""
    deal_desk = str(venv / "bin" / "deal-desk")
    with tempfile.TemporaryDirectory() as folder, socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()
        env = {k: v for k, v in os.environ.items() if not k.startswith("DEAL_DESK_")}
        env.update(DEAL_DESK_DATABASE_URL=f"sqlite:///{folder}/deal_desk.db", DEAL_DESK_LOG_LEVEL="WARNING",
                   DEAL_DESK_RATE_LIMIT_PER_S="0", PROMETHEUS_MULTIPROC_DIR=folder)
        subprocess.run([deal_desk, "seed", "--scale", "1"], env=env, cwd=folder, check=True,
                       capture_output=True)
        token = subprocess.check_output([deal_desk, "token", "--email", "desk@dealdesk.example", "--role",
                                         "DEAL_DESK"], env=env, cwd=folder, text=True).strip()
        server = subprocess.Popen([deal_desk, "serve", "--port", str(port), "--workers", str(workers)],
                                  env=env, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 120
            while get(f"{base}/readyz") != 200 or len(workers_of(server.pid)) < workers:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("deal-desk serve did not start")
                time.sleep(0.2)
            time.sleep(2)  # both workers past their start-up
            ready = [rss_mb(pid) for pid in workers_of(server.pid)]
            statuses = {get(f"{base}/graphql", LIST, token) for _ in range(REQUESTS)}
            if statuses != {200}:
                raise RuntimeError(f"deal lists answered {sorted(statuses)}")
            return {"ready_mb": ready, "after_requests_mb": [rss_mb(pid) for pid in workers_of(server.pid)]}
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(60)


def main() -> None:
    """Print the venv's footprint as one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", type=Path, default=Path(".venv"))
    parser.add_argument("--workers", type=int, default=2)
    arguments = parser.parse_args()
    venv = arguments.venv.absolute()
    print(json.dumps({"venv": str(venv), **installed(venv), **serving(venv, arguments.workers)}))


if __name__ == "__main__":
    sys.exit(main())
