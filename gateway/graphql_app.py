"""The GraphQL endpoint: Strawberry's ASGI app with our per-request context."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from auth.principal import Principal
from gateway.context import Context
from gateway.events import Broker
from gateway.settings import Settings
from gateway.store.database import Database
from loaders import Loaders


class GraphQLApp(GraphQL[Context, None]):
    """Builds one Context per request from the authenticated Principal."""

    def __init__(self, schema: Any, *, db: Database, settings: Settings, broker: Broker) -> None:
        super().__init__(schema, graphql_ide="graphiql", allow_queries_via_get=True)
        self.db, self.settings, self.broker = db, settings, broker

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
        principal: Principal = request.scope["user"]
        return Context(
            request=request, response=response if isinstance(response, Response) else None,
            db=self.db, settings=self.settings, principal=principal,
            loaders=Loaders(self.db, principal, self.settings), broker=self.broker,
        )
