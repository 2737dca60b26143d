"""Databricks Lakebase (PostgreSQL) logins: each new connection's password is a fresh OAuth database token.

Tokens come from the Databricks SDK (`WorkspaceClient()`, the SDK's own authentication: DATABRICKS_HOST and
a service principal, a managed identity or a Databricks App's identity), are cached and renewed in the
background 5 minutes before they expire (databricks.RefreshingToken). See docs/postgresql.md.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import Engine, event

if TYPE_CHECKING:
    from azure.core.credentials import AccessToken

    from gateway.core.settings import Settings

TOKEN_LIFETIME_S = 3600
"""A Lakebase database token lives one hour; assumed when the answer names no expiry."""
POOL_RECYCLE_S = 1800
"""Connections are replaced well within a token's lifetime, so none outlives the login it made."""

log = structlog.get_logger("deal_desk.lakebase")


def _workspace_client() -> Any:
    from databricks.sdk import WorkspaceClient

    return WorkspaceClient()


def _expires_on(value: Any) -> int:
    """Unix seconds of an expiry given as an RFC 3339 string or a protobuf Timestamp; else one lifetime on."""
    if value is None:
        return int(time.time()) + TOKEN_LIFETIME_S
    if isinstance(value, str):
        from google.protobuf.timestamp_pb2 import Timestamp

        parsed = Timestamp()
        parsed.FromJsonString(value)
        value = parsed
    return int(value.seconds)


class LakebaseCredential:
    """azure-identity's `get_token` over the SDK's database credentials, for one instance or endpoint."""

    def __init__(self, *, instance: str | None = None, endpoint: str | None = None,
                 client: Callable[[], Any] = _workspace_client) -> None:
        if bool(instance) == bool(endpoint):
            raise ValueError("set one of DEAL_DESK_LAKEBASE_INSTANCE and DEAL_DESK_LAKEBASE_ENDPOINT")
        self._instance, self._endpoint, self._client_factory = instance, endpoint, client
        self._client: Any = None  # made on first use: the SDK's set-up may ask the host for endpoints

    def get_token(self, *_scopes: str, **_kwargs: Any) -> AccessToken:
        """A new database token; RefreshingToken makes one call at a time."""
        from azure.core.credentials import AccessToken

        if self._client is None:
            self._client = self._client_factory()
        if self._endpoint:  # an autoscaling project's endpoint: projects/<p>/branches/<b>/endpoints/<e>
            answer = self._client.postgres.generate_database_credential(endpoint=self._endpoint)
            expires = answer.expire_time
        else:  # a provisioned database instance
            answer = self._client.database.generate_database_credential(
                instance_names=[self._instance], request_id=str(uuid.uuid4()))
            expires = answer.expiration_time
        if not answer.token:
            raise RuntimeError("Lakebase returned no database token")
        return AccessToken(answer.token, _expires_on(expires))

    def __repr__(self) -> str:
        return f"LakebaseCredential(instance={self._instance!r}, endpoint={self._endpoint!r})"


def token_source(settings: Settings | None) -> Callable[[], str] | None:
    """The cached, self-renewing token of the configured Lakebase instance or endpoint; None if none is."""
    from gateway.core.settings import Settings

    settings = settings or Settings()
    instance, endpoint = settings.lakebase_instance, settings.lakebase_endpoint
    if not (instance or endpoint):
        return None
    from gateway.store import extra

    databricks = extra.databricks("DEAL_DESK_LAKEBASE_INSTANCE or _ENDPOINT")
    credential = LakebaseCredential(instance=instance, endpoint=endpoint)
    return databricks.RefreshingToken(credential, str(instance or endpoint)).get


def log_in_with(engine: Engine, token: Callable[[], str]) -> None:
    """Every new connection of `engine` logs in with a valid token as its password."""

    def do_connect(_dialect: Any, _record: Any, _cargs: Any, cparams: dict[str, Any]) -> None:
        try:
            cparams["password"] = token()
        except Exception as error:  # a DBAPI error, so the request answers SERVICE_UNAVAILABLE
            import psycopg

            log.warning("Lakebase database token unavailable", error_type=type(error).__name__)
            raise psycopg.OperationalError(
                f"Lakebase database token unavailable ({type(error).__name__})") from error

    event.listen(engine, "do_connect", do_connect)
