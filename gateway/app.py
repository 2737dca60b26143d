"""App assembly: store, authentication, GraphQL endpoint, health and metrics."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route, WebSocketRoute

from auth.authenticator import Authenticator
from auth.token_cache import cached
from gateway import tracing
from gateway.core import metrics
from gateway.core.logging import configure_logging
from gateway.core.metrics import MetricsMiddleware
from gateway.core.settings import Settings
from gateway.events.broker import Broker, LocalBroker
from gateway.graphql_app import GraphQLApp
from gateway.http import health, trusted_documents
from gateway.http.access_log import AccessLogMiddleware
from gateway.http.authentication import BearerAuthMiddleware
from gateway.http.body_limit import BodySizeLimitMiddleware
from gateway.http.documents import Documents
from gateway.http.graphiql import graphiql_for
from gateway.http.idempotency import IdempotencyMiddleware
from gateway.http.rate_limit import RateLimitMiddleware
from gateway.http.request_id import RequestIdMiddleware
from gateway.http.security_headers import SecurityHeadersMiddleware, cors
from gateway.notify.service import Notifications
from gateway.store import reference_cache
from gateway.store import threads as store_threads
from gateway.store.database import Database
from gateway.store.migrate import migrate
from gateway.workflow.rules_file import approval_rules
from gateway.workflow.users import UserDirectory
from resolvers.extensions.limits import QueryLimits
from resolvers.schema import for_limits


def authenticator_for(settings: Settings) -> Authenticator:
    """Okta when an issuer is configured, else dev auth (which refuses production)."""
    if settings.auth_issuer:
        from auth.okta import OktaAuthenticator

        return OktaAuthenticator(settings)
    from auth.dev import DevAuthenticator

    return DevAuthenticator(settings)


def broker_for(settings: Settings) -> Broker:
    """Redis pub/sub shared by every replica when an events URL is configured, else in-process."""
    if settings.events_url:
        from gateway.events.redis_broker import RedisBroker

        return RedisBroker(settings.events_url)
    return LocalBroker()


def middleware_for(settings: Settings, db: Database, authenticator: Authenticator,
                   directory: UserDirectory, page_csp: str) -> list[Middleware]:
    """The HTTP middleware, outermost first."""
    return [
        Middleware(RequestIdMiddleware),
        Middleware(AccessLogMiddleware),
        Middleware(MetricsMiddleware),
        Middleware(SecurityHeadersMiddleware, hsts=settings.behind_tls, page_csp=page_csp),
        *cors(settings),  # before auth: preflights carry no token
        Middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes),
        Middleware(BearerAuthMiddleware, authenticator=authenticator, directory=directory),
        Middleware(RateLimitMiddleware, rate=settings.rate_limit_per_s, burst=settings.rate_limit_burst,
                   redis_url=settings.events_url),
        Middleware(IdempotencyMiddleware, db=db,  # after auth: keys are per caller
                   stale_after=dt.timedelta(seconds=settings.idempotency_stale_s)),
    ]


def create_app(settings: Settings | None = None) -> Starlette:
    """The gateway as an ASGI app."""
    settings = settings or Settings()
    configure_logging(settings.log_level)
    approval_rules(settings.approval_rules_file)  # a bad rules file stops the gateway here
    trusted = trusted_documents.load(settings.trusted_documents_file)  # and so does a bad manifest
    db = Database(settings.database_url, settings)
    metrics.POOLS.track(db.engine)
    references = reference_cache.for_store(db.engine, settings.reference_cache_s)  # writes invalidate it
    tracer = tracing.provider_for(settings)  # None unless DEAL_DESK_OTEL_ENABLED
    tracing.trace_engine(db.engine, tracer)
    authenticator = cached(authenticator_for(settings), settings.auth_token_cache_s)
    broker = broker_for(settings)
    directory = UserDirectory(db)
    schema = for_limits(QueryLimits.of(settings), tracing.schema_extensions(tracer))
    graphiql = graphiql_for(settings)
    notifications = Notifications(db, settings, broker)  # the outbox's channels, dispatcher, scheduler
    graphql = GraphQLApp(schema, db=db, settings=settings, broker=broker, authenticator=authenticator,
                         directory=directory, documents=Documents(db, settings, trusted), page=graphiql.html)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        store_threads.limit(settings, db.dialect)  # on the serving event loop
        if settings.migrate_on_start:
            migrate(db.engine)
        await notifications.start()
        yield
        await notifications.stop()
        await authenticator.aclose()
        await broker.aclose()
        db.dispose()
        await tracing.shutdown(tracer)

    metrics_route = [Route("/metrics", health.metrics)] if settings.metrics_port is None else []
    app = Starlette(
        routes=[
            Route("/healthz", health.healthz),
            Route("/readyz", health.readyz),
            *metrics_route,  # else served on DEAL_DESK_METRICS_PORT by `deal-desk serve`
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/slack/interactions", notifications.interactions.endpoint, methods=["POST"]),
            *([Route("/graphiql/{name}", graphiql.asset)] if settings.graphiql_enabled else []),
            WebSocketRoute("/graphql", graphql),
        ],
        middleware=[*tracing.middleware(tracer),
                    *middleware_for(settings, db, authenticator, directory, graphiql.csp)],
        lifespan=lifespan,
    )
    app.state.db, app.state.settings, app.state.broker = db, settings, broker
    app.state.reference_cache = references
    app.state.notifications = notifications
    return app
