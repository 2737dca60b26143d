"""What every resolver of one request sees: the caller, the store and the request's loaders."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.requests import HTTPConnection
from starlette.responses import Response

from auth.principal import Principal
from gateway.settings import Settings
from gateway.store.database import Database

if TYPE_CHECKING:
    from loaders import Loaders


@dataclass
class Context:
    """Per-request context; loaders are created once per request."""

    request: HTTPConnection
    response: Response | None
    db: Database
    settings: Settings
    principal: Principal
    loaders: Loaders
