"""Request bodies above a size limit are refused with 413 before anything reads them."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.core.errors import BadRequest
from gateway.http.bodies import TooLarge, read_body, replaying
from gateway.http.replies import reply


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
            body = await read_body(receive, self.max_bytes)
        except TooLarge:
            await reply(send, 413, BadRequest(f"The request body is larger than {self.max_bytes} bytes."))
            return
        if body is not None:  # None: the client went away
            await self.app(scope, replaying(body, receive), send)

    def _check_declared(self, scope: Scope) -> None:
        """Refuse early on a Content-Length over the limit, without reading."""
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise TooLarge()
