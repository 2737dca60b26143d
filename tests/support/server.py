"""The real app served by uvicorn on 127.0.0.1 (an ephemeral port) in a background thread."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import pytest
import uvicorn
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.core.settings import Settings
from gateway.http import connections

T = TypeVar("T")
START_TIMEOUT_S = 10.0


class Server:
    """One app served by uvicorn in its own thread and event loop."""

    def __init__(self, app: Starlette) -> None:
        self.app = app
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.loop = asyncio.new_event_loop()
        limits = connections.uvicorn_options(app.state.settings)  # as `deal-desk serve` bounds connections
        self.uvicorn = uvicorn.Server(uvicorn.Config(app, lifespan="on", log_level="warning", **limits))
        self.thread = threading.Thread(target=self._serve, name="uvicorn-test-server", daemon=True)

    @property
    def url(self) -> str:
        """The base URL, http://127.0.0.1:<port>."""
        host, port = self.socket.getsockname()[:2]
        return f"http://{host}:{port}"

    @property
    def ws_url(self) -> str:
        """The GraphQL WebSocket endpoint."""
        return self.url.replace("http://", "ws://", 1) + "/graphql"

    async def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run `coroutine` on the server's event loop (where the app's broker and pools live)."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coroutine, self.loop))

    def start(self) -> None:
        """Serve, returning once uvicorn accepts connections."""
        self.thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self.uvicorn.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        """Shut uvicorn down (the app's lifespan closes its resources) and join the thread."""
        self.uvicorn.should_exit = True
        self.thread.join(START_TIMEOUT_S)
        self.loop.close()
        self.socket.close()

    def _serve(self) -> None:
        self.loop.run_until_complete(self.uvicorn.serve(sockets=[self.socket]))


@contextlib.contextmanager
def serving(app: Starlette) -> Iterator[Server]:
    """`app` served until the block exits."""
    server = Server(app)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def live_server(settings: Settings) -> Iterator[str]:
    """The base URL of the real app (the test's settings) served by uvicorn over real HTTP; stopped after."""
    with serving(create_app(settings)) as server:
        yield server.url
