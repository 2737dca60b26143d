"""The GraphQL endpoint: Strawberry's ASGI app with our per-request context."""

from __future__ import annotations

import json
from typing import Any

import orjson
from cross_web import HTTPException
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.async_base_view import AsyncHTTPRequestAdapter
from strawberry.http.base import BaseRequestProtocol
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET, UnsetType

from auth.authenticator import Authenticator
from auth.principal import Principal
from gateway.core.errors import BadRequest, GatewayError, NotFound
from gateway.core.settings import Settings
from gateway.events.broker import Broker
from gateway.http.documents import Documents
from gateway.http.media_types import CONTENT_TYPES, GRAPHQL_RESPONSE, JSON, negotiate
from gateway.http.replies import error_response
from gateway.http.websocket import NOBODY, SocketContext, TextFrameAdapter, TransportWSHandler, token_of
from gateway.store.database import Database
from gateway.workflow.users import UserDirectory
from loaders.registry import Loaders
from resolvers.common.context import Context
from resolvers.extensions.http_status import is_request_error

NOT_OVER_HTTP = "Subscriptions are served over WebSocket (graphql-transport-ws) on /graphql, not plain HTTP"


class GraphQLApp(GraphQL[Context, None]):
    """Builds one Context per request from the authenticated Principal."""

    graphql_transport_ws_handler_class = TransportWSHandler
    websocket_adapter_class = TextFrameAdapter  # type: ignore[assignment]

    def __init__(self, schema: Any, *, db: Database, settings: Settings, broker: Broker,
                 authenticator: Authenticator, directory: UserDirectory, documents: Documents,
                 page: str) -> None:
        super().__init__(schema, graphql_ide="graphiql" if settings.graphiql_enabled else None,
                         allow_queries_via_get=True, subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
                         allowed_origins=settings.cors_origins)
        self.db, self.settings, self.broker = db, settings, broker
        self.authenticator, self.directory, self.documents = authenticator, directory, documents
        self.page = page  # the GraphiQL page (gateway/http/graphiql.py)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Over HTTP, refusals (bad JSON, content type, method) are GraphQL-shaped errors, not plain text."""
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive)
        media_type = negotiate(request.headers.get("accept"))
        try:
            response = await self._answer(request, media_type)
        except HTTPException as error:
            response = refusal(error, media_type)
        await response(scope, receive, send)

    async def _answer(self, request: Request, media_type: str) -> Response:
        """Serve the GraphiQL page to anonymous browsers; anything else over HTTP needs a Principal."""
        if "user" in request.scope:
            check_content_type(request)
            response = await self.run(request)
            refused = getattr(request.state, "request_error", False)
            return negotiated(response, media_type, request_error=refused)
        if not self.should_render_graphql_ide(self.request_adapter_class(request)):
            raise RuntimeError("no authenticated caller: BearerAuthMiddleware must run first")
        if not self.graphql_ide:
            raise HTTPException(404, "Not Found")  # GraphiQL is switched off
        return await self.render_graphql_ide(request)

    async def render_graphql_ide(self, request: Request) -> Response:
        """The gateway's own GraphiQL page, its assets served by the gateway."""
        return HTMLResponse(self.page)

    async def execute_single(self, request: Request, request_adapter: AsyncHTTPRequestAdapter,
                             sub_response: Response, context: Context, root_value: None,
                             request_data: GraphQLRequestData) -> ExecutionResult:
        """Strawberry's execution of the request's document (persisted ones included, documents.py).

        A mutation over GET is a 405, a subscription a bad request; an APQ query is registered once it ran.
        """
        try:
            resolved = await self.documents.resolve(request, request_data, context.principal)
        except BadRequest as error:
            raise HTTPException(400, str(error)) from None
        except GatewayError as error:  # a persisted document not found or not trusted: a request error
            return self._refused(error)
        try:
            result = await super().execute_single(request, request_adapter, sub_response, context, root_value,
                                                  resolved.data)
        except HTTPException as error:
            refused = error.__cause__
            if not isinstance(refused, InvalidOperationTypeError):
                raise
            if refused.operation_type is OperationType.SUBSCRIPTION:
                raise HTTPException(400, NOT_OVER_HTTP) from refused
            raise HTTPException(405, error.reason) from refused  # a mutation over GET: POST only
        if resolved.register is not None and resolved.data.query is not None and not is_request_error(result):
            await self.documents.register(resolved.register, resolved.data.query)
        return result

    def _refused(self, error: GatewayError) -> ExecutionResult:
        """`error` as the result of a request refused before execution (logged and counted as such)."""
        errors = [GraphQLError(str(error), extensions=error.extensions)]
        self.schema.process_errors(errors)
        return ExecutionResult(data=None, errors=errors)

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        """The response body; a request refused before execution carries no `data` (GraphQL over HTTP)."""
        body = await super().process_result(request, result)
        if is_request_error(result):
            body.pop("data", None)
            request.state.request_error = True
        return body

    def should_render_graphql_ide(self, request: BaseRequestProtocol) -> bool:
        """A browser's GET with no document: not a GET carrying an APQ hash or a documentId."""
        params = request.query_params
        return super().should_render_graphql_ide(request) and not {"extensions", "documentId"} & set(params)

    def decode_json(self, data: str | bytes) -> object:
        """json.loads, with JSON nested too deeply for it (about 1000 levels) invalid, not a crash."""
        try:
            return super().decode_json(data)
        except RecursionError as error:  # over HTTP a 400, over a WebSocket a 4400 close, as for bad JSON
            raise json.JSONDecodeError("JSON nested too deeply", "", 0) from error

    def encode_json(self, data: object) -> str | bytes:
        """Responses as compact UTF-8 JSON, by orjson (about 10x faster than json.dumps)."""
        return orjson.dumps(data)

    def parse_json(self, data: str | bytes) -> Any:
        """An HTTP request's JSON object or array; anything else is a 400 (Strawberry answers 500 to some)."""
        try:
            decoded = self.decode_json(data)  # WebSocket messages are decoded without this check
        except ValueError as error:  # also bytes that are not UTF-8
            raise HTTPException(400, "Unable to parse request body as JSON") from error
        if not isinstance(decoded, (dict, list)):
            raise HTTPException(400, "Expected a JSON object")
        return decoded

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
        """Authenticate connection_init's token; TransportWSHandler closes the socket (4403) if it fails."""
        assert isinstance(context, SocketContext)
        claims = await self.authenticator.verify(token_of(context.connection_params))
        context.bind(await self.directory.principal(claims), claims.expires_at)
        return UNSET


def check_content_type(request: Request) -> None:
    """A POST body must be application/json: 415 otherwise."""
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if request.method == "POST" and media_type != "application/json":
        raise HTTPException(415, "Unsupported content type: send application/json")


def negotiated(response: Response, media_type: str, *, request_error: bool) -> Response:
    """`response` as the client accepts it: with graphql-response+json, request errors are 400 (not 200)."""
    if response.media_type != JSON:  # the GraphiQL page, a stream
        return response
    response.headers["content-type"] = CONTENT_TYPES[media_type]
    if request_error and media_type == GRAPHQL_RESPONSE and response.status_code == 200:
        response.status_code = 400
    return response


def refusal(error: HTTPException, media_type: str = JSON) -> Response:
    """Strawberry's HTTP refusal as a GraphQL error response (405 names the method allowed)."""
    if error.status_code == 404:
        return error_response(404, NotFound(error.reason), content_type=CONTENT_TYPES[media_type])
    headers = {"allow": "POST"} if error.status_code == 405 else None
    return error_response(error.status_code, BadRequest(error.reason), headers, CONTENT_TYPES[media_type])
