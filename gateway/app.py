"""App assembly: store, authentication, GraphQL endpoint, health and metrics."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route, WebSocketRoute

from auth.authenticator import Authenticator
from auth.middleware import BearerAuthMiddleware
from auth.users import UserDirectory
from gateway import health
from gateway.events import LocalBroker
from gateway.graphql_app import GraphQLApp
from gateway.request_id import RequestIdMiddleware
from gateway.settings import Settings
from gateway.store.database import Database
from gateway.store.migrate import migrate
from resolvers.schema import schema


def authenticator_for(settings: Settings) -> Authenticator:
    """Okta when an issuer is configured, else dev auth (which refuses production)."""
    if settings.auth_issuer:
        from auth.okta import OktaAuthenticator

        return OktaAuthenticator(settings)
    from auth.dev import DevAuthenticator

    return DevAuthenticator(settings)


def create_app(settings: Settings | None = None) -> Starlette:
    """The gateway as an ASGI app."""
    settings = settings or Settings()
    db = Database(settings.database_url)
    authenticator = authenticator_for(settings)
    broker = LocalBroker()
    graphql = GraphQLApp(schema, db=db, settings=settings, broker=broker)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if settings.migrate_on_start:
            migrate(db.engine)
        yield
        await authenticator.aclose()
        await broker.aclose()
        db.dispose()

    app = Starlette(
        routes=[
            Route("/healthz", health.healthz),
            Route("/readyz", health.readyz),
            Route("/metrics", health.metrics),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
        ],
        middleware=[
            Middleware(RequestIdMiddleware),
            Middleware(BearerAuthMiddleware, authenticator=authenticator, directory=UserDirectory(db)),
        ],
        lifespan=lifespan,
    )
    app.state.db, app.state.settings, app.state.broker = db, settings, broker
    return app
