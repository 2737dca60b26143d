"""What every resolver of one request sees: the caller, the store and the request's loaders."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from starlette.requests import HTTPConnection
from starlette.responses import Response

from auth.principal import Principal
from gateway.core.settings import Settings
from gateway.events.broker import Broker
from gateway.store.audit import Actor
from gateway.store.database import Database
from resolvers.common.objects import Objects

if TYPE_CHECKING:
    from loaders.registry import Loaders


@dataclass
class Context:
    """Per-request context; loaders are created once per request."""

    request: HTTPConnection
    response: Response | None
    db: Database
    settings: Settings
    principal: Principal
    loaders: Loaders
    broker: Broker
    objects: Objects = field(default_factory=Objects)

    def actor(self) -> Actor:
        """The audit identity of one mutation of this request (a new operation id each call)."""
        return Actor(
            user_id=self.principal.user_id, sub=self.principal.sub,
            request_id=self.request.scope.get("request_id"),
            idempotency_key=self.request.headers.get("idempotency-key"),
        )
