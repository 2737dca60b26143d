"""Bearer-token authentication as plain ASGI middleware in front of the GraphQL endpoint."""

from __future__ import annotations

import json

import structlog
from starlette.datastructures import Headers, QueryParams
from starlette.types import ASGIApp, Receive, Scope, Send

from auth.authenticator import Authenticator
from auth.errors import AuthenticationError, AuthUnavailable
from auth.principal import Principal
from gateway.core.errors import ServiceUnavailable
from gateway.core.logging import bind_fields
from gateway.core.metrics import count_error
from gateway.workflow.users import UserDirectory

log = structlog.get_logger("deal_desk.auth")

RETRY_AFTER_S = 5


class BearerAuthMiddleware:
    """Verifies `Authorization: Bearer` on HTTP requests to `path`; puts the Principal in scope["user"].

    The GraphiQL page (a browser GET asking for HTML) and WebSocket upgrades pass through:
    the page carries no data, and subscriptions authenticate in their own handshake.
    """

    def __init__(self, app: ASGIApp, *, authenticator: Authenticator, directory: UserDirectory,
                 path: str = "/graphql") -> None:
        self.app, self.authenticator, self.directory, self.path = app, authenticator, directory, path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].rstrip("/") != self.path:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        token = bearer_token(headers.get("authorization"))
        if token is None and _wants_graphiql(scope, headers):
            await self.app(scope, receive, send)
            return
        try:
            scope["user"] = principal = await self._principal(token)
        except AuthenticationError as error:
            log.info("request refused", reason=str(error))
            await _reply(send, 401, "UNAUTHENTICATED", "A valid bearer token is required.",
                         {"www-authenticate": 'Bearer error="invalid_token"'})
            return
        except AuthUnavailable:
            log.warning("request refused", reason="signing keys unavailable")
            await _reply(send, 503, "SERVICE_UNAVAILABLE", "Authentication is unavailable; retry later.",
                         {"retry-after": str(RETRY_AFTER_S)})
            return
        except ServiceUnavailable as error:
            log.warning("request refused", reason="store unavailable for the caller's users row")
            retry_after = error.extensions.get("retryAfterSeconds", RETRY_AFTER_S)
            await _reply(send, 503, "SERVICE_UNAVAILABLE", str(error), {"retry-after": str(retry_after)})
            return
        bind_fields(user_id=principal.user_id)
        await self.app(scope, receive, send)

    async def _principal(self, token: str | None) -> Principal:
        """The verified caller bound to their users row."""
        if token is None:
            raise AuthenticationError("no bearer token")
        return await self.directory.principal(await self.authenticator.verify(token))


def bearer_token(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header."""
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _wants_graphiql(scope: Scope, headers: Headers) -> bool:
    # Parsed as Strawberry parses it, so an encoded name (%71uery=) cannot pass as a page request.
    params = QueryParams(scope.get("query_string", b""))
    documents = {"query", "extensions", "documentId"} & set(params)  # a GET of a (persisted) document
    return scope["method"] == "GET" and not documents and "text/html" in headers.get("accept", "")


async def _reply(send: Send, status: int, code: str, message: str, extra: dict[str, str]) -> None:
    count_error(code)
    body = json.dumps({"errors": [{"message": message, "extensions": {"code": code}}]}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers += [(name.encode(), value.encode()) for name, value in extra.items()]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
