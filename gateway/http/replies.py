"""GraphQL-shaped error responses for requests refused before GraphQL runs."""

from __future__ import annotations

import json

from starlette.responses import Response
from starlette.types import Send

from gateway.core.errors import GatewayError
from gateway.core.metrics import count_error


def error_body(error: GatewayError) -> bytes:
    """`{"errors": [...]}` with the error's message and extensions."""
    return json.dumps({"errors": [{"message": str(error), "extensions": error.extensions}]}).encode()


def error_response(status: int, error: GatewayError, headers: dict[str, str] | None = None,
                   content_type: str = "application/json") -> Response:
    """A Starlette response carrying `error` (counted in the error metric)."""
    count_error(error.code)
    return Response(error_body(error), status_code=status, headers=headers, media_type=content_type)


async def reply(send: Send, status: int, error: GatewayError, headers: dict[str, str] | None = None) -> None:
    """Send `error` as the whole response (counted in the error metric)."""
    count_error(error.code)
    await respond(send, status, error_body(error), headers)


async def respond(send: Send, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
    """Send a JSON body as the whole response."""
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(name.encode(), value.encode()) for name, value in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
