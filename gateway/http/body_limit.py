"""Request bodies above a size limit are refused with 413 before anything reads them."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.core.errors import BadUserInput
from gateway.http.idempotency import replaying
from gateway.http.replies import reply


class TooLarge(Exception):
    """The body is larger than allowed."""


class BodySizeLimitMiddleware:
    """Reads each HTTP request body, at most `max_bytes`, and hands it on; a larger one gets 413."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            self._check_declared(scope)
            body = await read_limited(receive, self.max_bytes)
        except TooLarge:
            await reply(send, 413, BadUserInput(f"The request body is larger than {self.max_bytes} bytes."))
            return
        if body is not None:  # None: the client went away
            await self.app(scope, replaying(body, receive), send)

    def _check_declared(self, scope: Scope) -> None:
        """Refuse early on a Content-Length over the limit, without reading."""
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise TooLarge()


async def read_limited(receive: Receive, max_bytes: int) -> bytes | None:
    """The whole body; TooLarge past `max_bytes`; None when the client disconnects first."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > max_bytes:
            raise TooLarge()
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)
