"""The gateway under test: a `deal-desk serve` subprocess on a free loopback port, and what it reports."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.serve_with_delay import DELAY_ENV

VENV_BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[1]
USERS: dict[str, tuple[str, str, str]] = {  # key -> (email, role, region) of seeded demo users
    "admin": ("admin@dealdesk.example", "ADMIN", "NA"),
    "desk": ("desk@dealdesk.example", "DEAL_DESK", "NA"),
    "seller": ("seller.na@dealdesk.example", "SELLER", "NA"),
    "manager": ("manager.na@dealdesk.example", "SALES_MANAGER", "NA"),
}
STATEMENTS = re.compile(r'^deal_desk_db_statements_total\{store="\w+"\} ([0-9.e+]+)$', re.M)
START_TIMEOUT_S = 60.0


def environment(db: Path, key_file: Path, delay_ms: float = 0) -> dict[str, str]:
    """The gateway's environment: the bench's store and dev key, dev auth, no Okta."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEAL_DESK_")}
    env.update(DEAL_DESK_DATABASE_URL=f"sqlite:///{db}", DEAL_DESK_DEV_KEY_FILE=str(key_file))
    env["DEAL_DESK_RATE_LIMIT_PER_S"] = "0"  # a few bench users send all the load: no per-caller limit
    if delay_ms:
        env[DELAY_ENV] = str(delay_ms)
        env["DEAL_DESK_STORE_THREADS"] = "40"  # a simulated warehouse: threads wait on round trips
    return env


def tokens(env: dict[str, str]) -> dict[str, str]:
    """A dev token per bench user, from `deal-desk token`."""
    found = {}
    for key, (email, role, region) in USERS.items():
        command = [str(VENV_BIN / "deal-desk"), "token", "--email", email, "--role", role, "--region", region]
        issued = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
        found[key] = issued.stdout.strip()
    return found


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Gateway:
    """A running gateway process."""

    process: subprocess.Popen[bytes]
    url: str

    @property
    def pid(self) -> int:
        """The server's process id (the Python process itself: the console script execs no child)."""
        return self.process.pid

    def statements(self) -> int:
        """The store statement counter from GET /metrics."""
        text = httpx.get(f"{self.url}/metrics").text
        return int(sum(float(value) for value in STATEMENTS.findall(text)))

    def pids(self) -> list[int]:
        """The server and its worker processes (`serve --workers N`)."""
        children = Path(f"/proc/{self.pid}/task/{self.pid}/children")
        return [self.pid, *(int(pid) for pid in children.read_text().split())]

    def reset_peak_memory(self) -> None:
        """Reset VmHWM to the current RSS of each process (Linux: write 5 to /proc/<pid>/clear_refs)."""
        for pid in self.pids():
            Path(f"/proc/{pid}/clear_refs").write_text("5")

    def memory_mb(self, field: str = "VmHWM") -> float:
        """VmHWM (peak RSS since the last reset) or VmRSS of the server, summed over its workers, in MiB."""
        total = 0
        for pid in self.pids():
            kib = re.search(rf"^{field}:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text(), re.M)
            if kib is None:
                return float("nan")
            total += int(kib.group(1))
        return total / 1024

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server and its workers so far (/proc/<pid>/stat)."""
        ticks = 0
        for pid in self.pids():
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
        return ticks / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it has not exited after 30 s."""
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start(env: dict[str, str], log: Path, workers: int = 1) -> Gateway:
    """Serve (through bench.serve_with_delay when a delay is set) and wait for /readyz."""
    port = free_port()
    if DELAY_ENV in env:
        command = [sys.executable, "-m", "bench.serve_with_delay", "serve", "--port", str(port)]
    else:
        command = [str(VENV_BIN / "deal-desk"), "serve", "--port", str(port)]
    if workers > 1:
        command += ["--workers", str(workers)]
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    gateway = Gateway(process, f"http://127.0.0.1:{port}")
    _wait_ready(gateway, log)
    return gateway


def _wait_ready(gateway: Gateway, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if gateway.process.poll() is not None:
            raise RuntimeError(f"gateway exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{gateway.url}/readyz", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    gateway.stop()
    raise RuntimeError("gateway not ready in time")
