"""A graphql-transport-ws client over a real WebSocket (the `websockets` library)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

PROTOCOL = Subprotocol("graphql-transport-ws")
WAIT_S = 5.0
QUIET_S = 0.5


class GraphQLSocket:
    """One graphql-transport-ws connection: connection_init, subscribe, next ... complete."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection

    async def send(self, message: dict[str, Any]) -> None:
        """Send one protocol message."""
        await self.connection.send(json.dumps(message))

    async def receive(self, timeout: float = WAIT_S) -> dict[str, Any]:
        """The next protocol message; TimeoutError when none comes in time."""
        frame = await asyncio.wait_for(self.connection.recv(), timeout)
        assert isinstance(frame, str), "a binary frame: graphql-transport-ws clients read text frames only"
        message: dict[str, Any] = json.loads(frame)
        return message

    async def init(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Send connection_init and return the server's answer (connection_ack when accepted)."""
        await self.send({"type": "connection_init", "payload": payload})
        return await self.receive()

    async def subscribe(self, operation_id: str, query: str, variables: dict[str, Any] | None = None) -> None:
        """Start an operation."""
        await self.send({"id": operation_id, "type": "subscribe",
                         "payload": {"query": query, "variables": variables or {}}})

    async def complete(self, operation_id: str) -> None:
        """Stop an operation."""
        await self.send({"id": operation_id, "type": "complete"})

    async def collect(self, expected: int) -> list[dict[str, Any]]:
        """`expected` messages (each within WAIT_S), then any that arrive in the next QUIET_S."""
        messages = [await self.receive() for _ in range(expected)]
        with contextlib.suppress(TimeoutError):
            while True:
                messages.append(await self.receive(QUIET_S))
        return messages

    async def close_code(self, timeout: float = WAIT_S) -> int | None:
        """The code the server closes with (earlier messages skipped); TimeoutError if it stays open."""
        async with asyncio.timeout(timeout):
            with contextlib.suppress(ConnectionClosed):
                while True:
                    await self.connection.recv()
        return self.connection.close_code


@contextlib.asynccontextmanager
async def graphql_socket(url: str) -> AsyncIterator[GraphQLSocket]:
    """A connection to `url` speaking graphql-transport-ws."""
    async with connect(url, subprotocols=[PROTOCOL], open_timeout=WAIT_S, close_timeout=1) as connection:
        assert connection.subprotocol == PROTOCOL
        yield GraphQLSocket(connection)
