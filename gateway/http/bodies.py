"""Reading a request body once, within a limit, and handing it on to the app as if unread."""

from __future__ import annotations

from starlette.types import Message, Receive


class TooLarge(Exception):
    """The body is larger than allowed."""


async def read_body(receive: Receive, max_bytes: int | None = None) -> bytes | None:
    """The whole body; TooLarge past `max_bytes` (when given); None when the client disconnects first."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if max_bytes is not None and size > max_bytes:
            raise TooLarge()
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def replaying(body: bytes, receive: Receive) -> Receive:
    """A `receive` that yields the already-read body once, then defers to the client's."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def replay() -> Message:
        return pending.pop() if pending else await receive()

    return replay
