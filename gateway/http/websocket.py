"""GraphQL over WebSocket (graphql-transport-ws): authenticated in connection_init, closed at token expiry."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import structlog
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.subscriptions.protocols.graphql_transport_ws.types import ConnectionInitMessage

from auth.errors import AuthenticationError, AuthUnavailable
from auth.principal import Principal
from gateway.core.logging import bind_fields
from gateway.http.authentication import bearer_token
from loaders.registry import Loaders
from resolvers.common.context import Context

log = structlog.get_logger("deal_desk.auth")

FORBIDDEN = 4403  # the protocol's close code for a refused connection_init (and here an expired token)
TRY_AGAIN_LATER = 1013
# The caller of a socket before connection_init: no roles, so the row rules show it nothing.
NOBODY = Principal(user_id="", sub="", email="", name="")


@dataclass
class SocketContext(Context):
    """The context of one WebSocket; its Principal is bound when connection_init authenticates."""

    connection_params: dict[str, Any] | None = None
    expires_at: int | None = None

    def bind(self, principal: Principal, expires_at: int | None) -> None:
        """Make `principal` the caller of every operation on this socket until `expires_at`."""
        self.principal, self.expires_at = principal, expires_at
        bind_fields(user_id=principal.user_id)  # the socket's later lines, its operations' among them
        self.loaders = Loaders(self.db, principal, self.settings)


def token_of(params: Mapping[str, Any] | None) -> str:
    """The token of a connection_init payload: `authorization: Bearer <jwt>` (any case) or `token`."""
    lowered = {str(key).lower(): value for key, value in (params or {}).items()}
    authorization, token = lowered.get("authorization"), lowered.get("token")
    found = bearer_token(authorization) if isinstance(authorization, str) else None
    if found is None and isinstance(token, str):
        found = token.strip() or None
    if found is None:
        raise AuthenticationError("no bearer token in connection_init")
    return found


class TextFrameAdapter(ASGIWebSocketAdapter):
    """Strawberry's WebSocket adapter sending every message as a text frame.

    Strawberry sends bytes when the view's JSON encoder returns bytes (orjson), and graphql-ws, gql
    and GraphiQL refuse binary frames.
    """

    async def send_json(self, message: Mapping[str, object]) -> None:
        """Send `message` as one JSON text frame."""
        encoded = self.view.encode_json(message)
        await self.ws.send_text(encoded.decode() if isinstance(encoded, bytes) else encoded)


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """Strawberry's handler, closing with 4403 on a refused connection_init and when the token expires."""

    expiry: asyncio.Task[None] | None = None

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        """Acknowledge an authenticated connection_init; close the socket on any other."""
        try:
            await super().handle_connection_init(message)
        except AuthenticationError as error:
            log.info("websocket refused", reason=str(error))
            await self.websocket.close(code=FORBIDDEN, reason="Forbidden")
        except AuthUnavailable:
            log.warning("websocket refused", reason="signing keys unavailable")
            await self.websocket.close(code=TRY_AGAIN_LATER, reason="Authentication unavailable")
        else:
            self._watch_expiry()

    def _watch_expiry(self) -> None:
        expires_at = self.context.expires_at if isinstance(self.context, SocketContext) else None
        if self.connection_acknowledged and expires_at is not None:
            self.expiry = asyncio.create_task(self._close_at(expires_at))
            self.expiry.add_done_callback(self._task_done)

    async def _close_at(self, expires_at: int) -> None:
        await asyncio.sleep(max(0.0, expires_at - time.time()))
        self.expiry = None  # from here on the close must finish, even if the socket shuts down meanwhile
        for operation_id in list(self.operations):
            await self.cleanup_operation(operation_id)
        await self.websocket.close(code=FORBIDDEN, reason="Token expired")

    async def shutdown(self) -> None:
        """Stop watching for expiry, then Strawberry's clean-up."""
        if self.expiry is not None:
            self.expiry.cancel()
        await super().shutdown()
