"""Databricks SQL warehouse engines: connector options, a small pool and bearer-token authentication.

URL: databricks://<workspace host>?http_path=<warehouse path>&catalog=<catalog>&schema=<schema>.
How the gateway authenticates comes from settings (docs/databricks.md), never from logs or reprs.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy
import structlog
from azure.core.credentials import TokenCredential
from pydantic import SecretStr
from sqlalchemy import Engine, inspect
from sqlalchemy.engine import URL
from sqlalchemy.pool import NullPool
from sqlalchemy.schema import CreateSchema

from gateway.core.settings import Settings
from gateway.store import (
    delta,  # noqa: F401  (registers the Delta DDL the dialect compiles)
    idle_ping,
    retry,
    timeouts,
)

AZURE_DATABRICKS_SCOPE = "2ff814a6-3304-4ab8-85cb-cd0e6f879c1d/.default"
"""The Azure Databricks resource (one application id in every tenant), as an Entra ID scope."""

REFRESH_MARGIN_S = 300.0
RETRY_AFTER_S = 15.0
USER_AGENT = "deal-desk-gateway"
POOL_OPTIONS: dict[str, Any] = {"pool_size": 5, "max_overflow": 5, "pool_recycle": 1800}
IDLE_PING_S = 60.0  # a pooled connection idle this long is pinged before use (not every one: a round trip)
URL_OPTIONS = ("http_path", "catalog", "schema")

HeaderFactory = Callable[[], dict[str, str]]
log = structlog.get_logger("deal_desk.databricks")
_ADMIN: weakref.WeakKeyDictionary[Engine, tuple[URL, dict[str, Any]]] = weakref.WeakKeyDictionary()


def _in_thread(work: Callable[[], None]) -> None:
    threading.Thread(target=work, name="databricks-token-refresh", daemon=True).start()


class RefreshingToken:
    """A bearer token from an azure-identity credential, cached, renewed in the background before expiry."""

    def __init__(
        self, credential: TokenCredential, scope: str = AZURE_DATABRICKS_SCOPE, *,
        margin_s: float = REFRESH_MARGIN_S, clock: Callable[[], float] = time.time,
        spawn: Callable[[Callable[[], None]], None] = _in_thread,
    ) -> None:
        self._credential, self._scope, self._margin = credential, scope, margin_s
        self._clock, self._spawn = clock, spawn
        self._state = threading.Lock()  # guards the fields below
        self._fetching = threading.Lock()  # one call to the credential at a time
        self._token: str | None = None
        self._expires_on = 0.0
        self._refreshing = False
        self._retry_at = 0.0

    def get(self) -> str:
        """A valid token; a request waits for the credential only when no valid token is cached."""
        now = self._clock()
        with self._state:
            token = self._token if now < self._expires_on else None
            due = token is not None and self._due(now)
            self._refreshing = self._refreshing or due
        if due:
            self._spawn(self._refresh)
        return token if token is not None else self._fetch_waiting()

    def _due(self, now: float) -> bool:
        """Inside the margin, not backing off after a failure, and no renewal running yet."""
        return now >= self._expires_on - self._margin and now >= self._retry_at and not self._refreshing

    def _fetch_waiting(self) -> str:
        with self._fetching:
            with self._state:
                if self._token is not None and self._clock() < self._expires_on:
                    return self._token  # fetched by another thread while this one waited
            return self._fetch()

    def _fetch(self) -> str:
        access = self._credential.get_token(self._scope)
        with self._state:
            renewed = access.expires_on > self._expires_on
            self._token, self._expires_on = access.token, float(access.expires_on)
            # A credential that hands back the same token is asked again later, not on every request.
            self._retry_at = 0.0 if renewed else self._clock() + RETRY_AFTER_S
        return access.token

    def _refresh(self) -> None:
        try:
            with self._fetching:
                self._fetch()
        except Exception as error:  # the cached token stays in use until it expires
            log.warning("Databricks token refresh failed", error_type=type(error).__name__,
                        retry_in_s=RETRY_AFTER_S)
            with self._state:
                self._retry_at = self._clock() + RETRY_AFTER_S
        finally:
            with self._state:
                self._refreshing = False

    def __repr__(self) -> str:
        return f"RefreshingToken(scope={self._scope!r})"


class BearerCredentialsProvider:
    """A databricks-sql-connector `credentials_provider`: `Authorization: Bearer` from a token source."""

    def __init__(self, token: Callable[[], str], auth_type: str) -> None:
        self._token, self._auth_type = token, auth_type

    def auth_type(self) -> str:
        """The name the connector reports for this provider."""
        return self._auth_type

    def __call__(self, *_args: Any, **_kwargs: Any) -> HeaderFactory:
        return self.headers

    def headers(self) -> dict[str, str]:
        """The request headers, with a valid token."""
        return {"Authorization": f"Bearer {self._token()}"}

    def __repr__(self) -> str:
        return f"BearerCredentialsProvider(auth_type={self._auth_type!r})"


class DatabricksM2MCredentialsProvider:
    """Databricks OAuth M2M for a service principal, through the Databricks SDK (which refreshes tokens)."""

    def __init__(self, host: str, client_id: str, client_secret: SecretStr) -> None:
        self._host, self._client_id, self._secret = host, client_id, client_secret
        self._lock = threading.Lock()
        self._factory: HeaderFactory | None = None

    def auth_type(self) -> str:
        """The name the connector reports for this provider."""
        return "oauth-m2m"

    def __call__(self, *_args: Any, **_kwargs: Any) -> HeaderFactory:
        # Built on first connect, not at start-up: the SDK's set-up asks the host for its OIDC endpoints.
        with self._lock:
            if self._factory is None:
                from databricks.sdk.core import Config

                config = Config(host=f"https://{self._host}", client_id=self._client_id,
                                client_secret=self._secret.get_secret_value(), auth_type="oauth-m2m")
                self._factory = config.authenticate
            return self._factory

    def __repr__(self) -> str:
        return f"DatabricksM2MCredentialsProvider(host={self._host!r}, client_id={self._client_id!r})"


def secret(value: SecretStr | None, path: str | None) -> SecretStr | None:
    """A secret given directly (environment) or as a file path (mounted secret); the file wins."""
    if path:
        return SecretStr(Path(path).read_text().strip())
    return value


def _required(value: Any, variable: str, mode: str) -> Any:
    if not value:
        raise ValueError(f"DEAL_DESK_DATABRICKS_AUTH={mode} needs {variable}")
    return value


def azure_credential(settings: Settings) -> TokenCredential:
    """The azure-identity credential for azure-sp (secret or certificate) or azure-msi."""
    from azure.identity import CertificateCredential, ClientSecretCredential, ManagedIdentityCredential

    mode = settings.databricks_auth
    if mode == "azure-msi":  # a client id selects a user-assigned identity
        return ManagedIdentityCredential(client_id=settings.databricks_client_id)
    tenant = _required(settings.databricks_tenant_id, "DEAL_DESK_DATABRICKS_TENANT_ID", mode)
    client = _required(settings.databricks_client_id, "DEAL_DESK_DATABRICKS_CLIENT_ID", mode)
    client_secret = secret(settings.databricks_client_secret, settings.databricks_client_secret_file)
    if client_secret is not None:
        return ClientSecretCredential(tenant, client, client_secret.get_secret_value())
    certificate = _required(settings.databricks_certificate_path,
                            "DEAL_DESK_DATABRICKS_CLIENT_SECRET(_FILE) or _CERTIFICATE_PATH", mode)
    password = settings.databricks_certificate_password
    return CertificateCredential(tenant, client, certificate_path=certificate,
                                 password=password.get_secret_value() if password else None)


def credentials_provider(
    host: str, settings: Settings
) -> BearerCredentialsProvider | DatabricksM2MCredentialsProvider:
    """The connector's credentials_provider for every mode but pat; one per engine, shared by its pool."""
    mode = settings.databricks_auth
    if mode == "oauth-m2m":
        client = _required(settings.databricks_client_id, "DEAL_DESK_DATABRICKS_CLIENT_ID", mode)
        client_secret = secret(settings.databricks_client_secret, settings.databricks_client_secret_file)
        return DatabricksM2MCredentialsProvider(
            host, client, _required(client_secret, "DEAL_DESK_DATABRICKS_CLIENT_SECRET(_FILE)", mode))
    return BearerCredentialsProvider(RefreshingToken(azure_credential(settings)).get, mode)


def session_configuration(settings: Settings) -> dict[str, str]:
    """Warehouse session settings: the statement timeout, and UTC for every timestamp conversion."""
    # Timestamps are stored as naive UTC (TIMESTAMP_NTZ) while the connector binds datetimes as
    # TIMESTAMP; a UTC session makes comparisons between the two exact.
    return {"STATEMENT_TIMEOUT": str(settings.databricks_statement_timeout_s), "TIMEZONE": "UTC"}


def connect_arguments(url: URL, settings: Settings) -> dict[str, Any]:
    """databricks-sql-connector options beyond host, http_path, catalog and schema."""
    options: dict[str, Any] = {"user_agent_entry": USER_AGENT,
                               "session_configuration": session_configuration(settings),
                               **retry.connector_options(settings.store_retry_max_s)}
    if settings.databricks_auth == "pat":
        token = secret(settings.databricks_token, settings.databricks_token_file)
        if token is None and url.password:
            token = SecretStr(str(url.password))
        token = _required(token, "DEAL_DESK_DATABRICKS_TOKEN(_FILE)", "pat")
        return {**options, "access_token": token.get_secret_value()}
    assert url.host is not None
    return {**options, "access_token": None, "credentials_provider": credentials_provider(url.host, settings)}


def check_url(url: URL) -> URL:
    """`url` without credentials, once it names a host and every warehouse option and nothing else."""
    missing = [name for name in URL_OPTIONS if not url.query.get(name)]
    unknown = sorted(set(url.query) - set(URL_OPTIONS))
    if not url.host or missing or unknown:
        raise ValueError(
            "DEAL_DESK_DATABRICKS URL must be databricks://<host>?http_path=...&catalog=...&schema=... "
            f"(missing: {', '.join(missing) or 'none'}; unknown: {', '.join(unknown) or 'none'})"
        )
    return URL.create(url.drivername, host=url.host, port=url.port, database=url.database, query=url.query)


def create_engine(url: URL, settings: Settings) -> Engine:
    """An engine on the warehouse of `url`: TLS (the connector's default), native parameters, a small pool."""
    plain = check_url(url)
    connect_args = connect_arguments(url, settings)
    engine = sqlalchemy.create_engine(plain, connect_args=connect_args, **POOL_OPTIONS)
    idle_ping.ping_when_idle(engine, IDLE_PING_S)
    timeouts.cancel_overdue_statements(engine)
    _ADMIN[engine] = (plain, connect_args)
    return engine


def ensure_schema(engine: Engine) -> None:
    """Create the URL's schema if missing, from a session on the catalog alone (the schema may not exist)."""
    url, connect_args = _ADMIN[engine]
    schema = str(url.query["schema"])
    admin = sqlalchemy.create_engine(url.difference_update_query(["schema"]), connect_args=connect_args,
                                     poolclass=NullPool)
    try:
        with admin.connect() as connection:
            if not inspect(connection).has_schema(schema):
                connection.execute(CreateSchema(schema, if_not_exists=True))
    finally:
        admin.dispose()
