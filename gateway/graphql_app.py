"""The GraphQL endpoint: Strawberry's ASGI app with our per-request context."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UNSET, UnsetType

from auth.authenticator import Authenticator
from auth.principal import Principal
from auth.users import UserDirectory
from gateway.context import Context
from gateway.events import Broker
from gateway.settings import Settings
from gateway.store.database import Database
from gateway.websocket import NOBODY, SocketContext, TransportWSHandler, token_of
from loaders.registry import Loaders


class GraphQLApp(GraphQL[Context, None]):
    """Builds one Context per request from the authenticated Principal."""

    graphql_transport_ws_handler_class = TransportWSHandler

    def __init__(self, schema: Any, *, db: Database, settings: Settings, broker: Broker,
                 authenticator: Authenticator, directory: UserDirectory) -> None:
        super().__init__(schema, graphql_ide="graphiql", allow_queries_via_get=True,
                         subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,))
        self.db, self.settings, self.broker = db, settings, broker
        self.authenticator, self.directory = authenticator, directory

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the GraphiQL page to anonymous browsers; anything else over HTTP needs a Principal."""
        if scope["type"] == "http" and "user" not in scope:
            request = Request(scope, receive)
            if not self.should_render_graphql_ide(self.request_adapter_class(request)):
                raise RuntimeError("no authenticated caller: BearerAuthMiddleware must run first")
            await (await self.render_graphql_ide(request))(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        if isinstance(request, WebSocket):
            return self._socket_context(request)
        principal: Principal = request.scope["user"]
        return Context(
            request=request, response=response if isinstance(response, Response) else None,
            db=self.db, settings=self.settings, principal=principal,
            loaders=Loaders(self.db, principal, self.settings), broker=self.broker,
        )

    def _socket_context(self, websocket: WebSocket) -> SocketContext:
        # Nobody until connection_init authenticates; Strawberry refuses operations before that.
        return SocketContext(request=websocket, response=None, db=self.db, settings=self.settings,
                             principal=NOBODY, loaders=Loaders(self.db, NOBODY, self.settings),
                             broker=self.broker)

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """Authenticate connection_init's token; TransportWSHandler closes the socket (4401) if it fails."""
        assert isinstance(context, SocketContext)
        claims = await self.authenticator.verify(token_of(context.connection_params))
        context.bind(await self.directory.principal(claims), claims.expires_at)
        return UNSET
