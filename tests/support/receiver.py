"""A webhook receiver on loopback that records every request (headers and raw body) and answers as told."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


@dataclass
class Received:
    """One request the receiver got."""

    headers: dict[str, str]
    body: bytes


class Receiver:
    """POST /hook, recorded; answers `status` (204 by default)."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.status = 204
        self.socket = socket.create_server(("127.0.0.1", 0))
        app = Starlette(routes=[Route("/hook", self._hook, methods=["POST"])])
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        self.thread = threading.Thread(target=lambda: asyncio.run(self.server.serve(sockets=[self.socket])),
                                       daemon=True, name="webhook-receiver")

    @property
    def url(self) -> str:
        """The receiver's URL."""
        host, port = self.socket.getsockname()[:2]
        return f"http://{host}:{port}/hook"

    async def _hook(self, request: Request) -> Response:
        self.received.append(Received(dict(request.headers), await request.body()))
        return Response(status_code=self.status)

    def wait_for(self, count: int, timeout_s: float = 10.0) -> list[Received]:
        """Block until `count` requests arrived."""
        deadline = time.monotonic() + timeout_s
        while len(self.received) < count:
            assert time.monotonic() < deadline, f"{len(self.received)} of {count} webhooks in {timeout_s}s"
            time.sleep(0.02)
        return list(self.received)


@contextmanager
def receiving() -> Iterator[Receiver]:
    """A Receiver serving until the block ends."""
    receiver = Receiver()
    receiver.thread.start()
    while not receiver.server.started:
        time.sleep(0.01)
    try:
        yield receiver
    finally:
        receiver.server.should_exit = True
        receiver.thread.join(10)
        receiver.socket.close()
