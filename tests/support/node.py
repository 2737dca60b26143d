"""The Node helpers of tests/clients/ (real npm clients), run as child processes that print JSON lines."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = ROOT / "tests" / "clients"
WAIT_S = 10.0


def node() -> str:
    """The node binary; a missing Node or missing npm packages fail the test (scripts/setup installs them)."""
    found = shutil.which("node")
    assert found, "node is not installed: run scripts/setup"
    assert (ROOT / "node_modules" / ".package-lock.json").exists(), "npm packages missing: run scripts/setup"
    return found


class NodeClient:
    """One running helper: its JSON lines, one at a time."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    async def line(self, timeout: float = WAIT_S) -> dict[str, Any]:
        """The helper's next JSON line; AssertionError if it exits first."""
        assert self.process.stdout is not None
        raw = await asyncio.wait_for(self.process.stdout.readline(), timeout)
        if not raw:
            errors = await self.process.stderr.read() if self.process.stderr else b""
            raise AssertionError(f"the Node client exited: {errors.decode(errors='replace')[-2000:]}")
        line: dict[str, Any] = json.loads(raw)
        return line


@contextlib.asynccontextmanager
async def node_client(script: str, job: dict[str, Any]) -> AsyncIterator[NodeClient]:
    """tests/clients/`script` started with `job` as its JSON argument; killed when the block exits."""
    process = await asyncio.create_subprocess_exec(
        node(), str(CLIENTS / script), json.dumps(job), cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        yield NodeClient(process)
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()


async def run_node(script: str, *args: str, timeout: float = 120.0) -> tuple[int, str, str]:
    """Run tests/clients/`script` to its end: exit code, stdout and stderr."""
    process = await asyncio.create_subprocess_exec(
        node(), str(CLIENTS / script), *args, cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    return process.returncode or 0, out.decode(), err.decode()
