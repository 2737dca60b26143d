"""Settings read from DEAL_DESK_* environment variables (PRODUCT.md, Configuration)."""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from gateway.core.roles import Role

DEFAULT_ROLE_MAP = {
    "dealdesk-sellers": "SELLER",
    "dealdesk-sales-managers": "SALES_MANAGER",
    "dealdesk-desk": "DEAL_DESK",
    "dealdesk-finance": "FINANCE",
    "dealdesk-legal": "LEGAL",
    "dealdesk-executives": "EXECUTIVE",
    "dealdesk-analysts": "ANALYST",
    "dealdesk-admins": "ADMIN",
}


class ConfigError(ValueError):
    """A configuration that cannot work; the message names the setting and holds no secret."""


class Settings(BaseSettings):
    """Every setting of the gateway; each CLI command reads the same ones."""

    model_config = SettingsConfigDict(env_prefix="DEAL_DESK_", extra="ignore")

    env: str = "development"
    database_url: Annotated[str, Field(repr=False)] = "sqlite:///./deal_desk.db"  # may carry a password
    auth_issuer: str | None = None
    auth_audience: str = "api://deal-desk"
    auth_jwks_url: str | None = None
    auth_groups_claim: str = "groups"
    auth_region_claim: str = "region"
    auth_role_map: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_ROLE_MAP))
    dev_key_file: str | None = None
    migrate_on_start: bool = True
    page_size_default: int = 50
    page_size_max: int = 500
    approval_rules_file: str | None = None  # TOML replacing the default approval rules (rules_file.py)
    events_url: str | None = None  # Redis URL of the deal-event broker shared by replicas; unset = in-process
    # Databricks SQL warehouse (docs/databricks.md); secrets come from the environment or from *_file paths.
    databricks_auth: Literal["pat", "azure-sp", "azure-msi", "oauth-m2m"] = "pat"
    databricks_token: SecretStr | None = None
    databricks_token_file: str | None = None
    databricks_client_id: str | None = None
    databricks_client_secret: SecretStr | None = None
    databricks_client_secret_file: str | None = None
    databricks_tenant_id: str | None = None
    databricks_certificate_path: str | None = None
    databricks_certificate_password: SecretStr | None = None
    # Governed views for analysts (docs/databricks.md): `deal-desk databricks governance`.
    databricks_analytics_schema: str | None = None  # unset: <the URL's schema>_analytics
    databricks_analysts_group: str | None = None  # unset: the role map's one ANALYST group
    databricks_gateway_principal: str | None = None  # set: its grants are (re)stated too
    # How writes commit: "auto" journals them where the store has no multi-statement transactions
    # (Databricks) and uses one transaction elsewhere; "journal" forces the journal (tests, drills).
    write_mode: Literal["auto", "transaction", "journal"] = "auto"
    databricks_statement_timeout_s: Annotated[int, Field(gt=0)] = 300
    # Seconds a Databricks read (or a write statement losing a Delta commit race) is retried (store/retry.py).
    store_retry_max_s: Annotated[float, Field(ge=0)] = 10.0
    # The longest any call waits on the store (statement and lock timeouts; store/timeouts.py).
    statement_timeout_s: Annotated[float, Field(gt=0)] = 10.0
    # Databricks: an Idempotency-Key claim unfinished this long was left by a crash; its retry resumes it.
    idempotency_stale_s: Annotated[float, Field(gt=0)] = 60.0
    # Connection limits per worker (gateway/http/connections.py).
    max_header_bytes: Annotated[int, Field(gt=0)] = 16_384  # request line and headers; 431 beyond
    idle_timeout_s: Annotated[float, Field(gt=0)] = 30.0  # a connection silent that long is closed
    max_connections: Annotated[int, Field(gt=0)] = 2048  # connections or requests in flight; 503 beyond
    # Databricks Lakebase (docs/postgresql.md): with one of these, PostgreSQL logins use OAuth tokens.
    lakebase_instance: str | None = None  # a provisioned database instance's name
    lakebase_endpoint: str | None = None  # an autoscaling endpoint: projects/<p>/branches/<b>/endpoints/<e>
    # Hardening (docs/operations.md).
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"  # any case
    query_max_aliases: Annotated[int, Field(gt=0)] = 30
    query_max_tokens: Annotated[int, Field(gt=0)] = 2000
    query_max_cost: Annotated[int, Field(gt=0)] = 250_000
    query_cost_list_size: Annotated[int, Field(gt=0)] = 5  # assumed items of a list without `first`
    rate_limit_per_s: Annotated[float, Field(ge=0)] = 20.0  # per caller; 0 turns rate limiting off
    rate_limit_burst: Annotated[int, Field(gt=0)] = 100
    max_body_bytes: Annotated[int, Field(gt=0)] = 1_048_576
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)  # JSON list or comma-separated
    behind_tls: bool = False  # sends Strict-Transport-Security
    graphiql: bool | None = None  # unset: on except in production
    graphiql_assets_dir: str | None = None  # node_modules with graphiql and react; unset: the checkout's
    introspection: bool | None = None  # unset: on except in production
    # Performance (docs/performance.md): seconds a verified token / a reference row by id is reused; 0 = off.
    auth_token_cache_s: Annotated[float, Field(ge=0)] = 60.0
    reference_cache_s: Annotated[float, Field(ge=0)] = 10.0
    store_threads: Annotated[int | None, Field(gt=0)] = None  # statements at once; unset: 8 SQLite, 40 else
    otel_enabled: bool = False  # OpenTelemetry spans; OTEL_* variables configure the export
    # /metrics on a port of its own (gateway/ops/metrics_port.py) instead of the API's; unset = the API's.
    metrics_port: Annotated[int | None, Field(gt=0, lt=65536)] = None

    # Notifications (docs/slack.md): the outbox's dispatcher, Slack, reminders, webhooks.
    slack_bot_token: SecretStr | None = None  # xoxb-...; unset: no Slack messages
    slack_signing_secret: SecretStr | None = None  # verifies POST /slack/interactions
    slack_api_url: str = "https://slack.com/api/"  # tests point it at a local fake
    public_url: str | None = None  # the Deal Desk's own address, for links back from messages
    notify_max_age_h: Annotated[float, Field(gt=0)] = 24.0  # retried this long, then FAILED
    notify_max_attempts: Annotated[int, Field(gt=0)] = 25  # or after this many attempts
    notify_backoff_s: Annotated[float, Field(gt=0)] = 2.0  # the first retry's wait, doubled each time
    notify_backoff_max_s: Annotated[float, Field(gt=0)] = 900.0
    notify_poll_s: Annotated[float, Field(gt=0)] = 1.0  # the dispatcher also wakes on every deal event
    notify_lease_s: Annotated[float, Field(gt=0)] = 60.0  # a claimed row is another worker's after this
    notify_roles_max_age_h: Annotated[float, Field(gt=0)] = 720.0  # eligible approvers: roles seen since
    slack_roles_max_age_h: Annotated[float, Field(gt=0)] = 12.0  # a Slack click: roles seen since
    scheduler_interval_s: Annotated[float, Field(gt=0)] = 30.0  # reminders and escalation
    webhook_url: SecretStr | None = None  # Standard Webhooks receiver (its URL may hold a token); unset: none
    webhook_secret: SecretStr | None = None  # whsec_<base64>

    @property
    def slack_enabled(self) -> bool:
        """True when a bot token is configured."""
        return self.slack_bot_token is not None

    @property
    def notify_channels(self) -> list[str]:
        """The outbox channels that are configured."""
        return [name for name, on in (("slack", self.slack_enabled),
                                      ("webhook", bool(self.webhook_url and self.webhook_secret))) if on]

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value
    # Pricing guidance (docs/operations.md): segment figures rewritten at most this often; a segment with
    # fewer closed-won deals than the minimum falls back to a wider one.
    guidance_refresh_s: Annotated[int, Field(gt=0)] = 600
    guidance_min_sample: Annotated[int, Field(ge=1)] = 30
    # Persisted documents (docs/operations.md): Apollo's automatic persisted queries, kept in the store.
    apq_ttl_s: Annotated[int, Field(gt=0)] = 7 * 24 * 3600
    apq_max_entries: Annotated[int, Field(gt=0)] = 10_000
    # Trusted documents: an Apollo persisted-query manifest; with _ONLY, other documents are refused
    # except for the ad-hoc roles (people in GraphiQL).
    trusted_documents_file: str | None = None
    trusted_documents_only: bool = False
    adhoc_roles: Annotated[frozenset[Role], NoDecode] = frozenset({Role.ANALYST, Role.ADMIN})

    @field_validator("auth_role_map", mode="before")
    @classmethod
    def _parse_role_map(cls, value: object) -> object:
        if isinstance(value, str):
            return json.loads(value)
        return value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _parse_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return json.loads(value) if value.lstrip().startswith("[") else [
                origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("adhoc_roles", mode="before")
    @classmethod
    def _parse_roles(cls, value: object) -> object:
        if isinstance(value, str):  # comma-separated role names; empty: no ad-hoc role
            return [role.strip().upper() for role in value.split(",") if role.strip()]
        return value

    @field_validator("auth_role_map")
    @classmethod
    def _check_roles(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value.values()) - {role.value for role in Role})
        if unknown:
            raise ValueError(f"DEAL_DESK_AUTH_ROLE_MAP names unknown roles: {', '.join(unknown)}")
        return value

    @property
    def is_production(self) -> bool:
        """True when DEAL_DESK_ENV says production."""
        return self.env.lower() == "production"

    @property
    def graphiql_enabled(self) -> bool:
        """GraphiQL is served: as set, else everywhere but production."""
        return self.graphiql if self.graphiql is not None else not self.is_production

    @property
    def introspection_enabled(self) -> bool:
        """Introspection is answered: as set, else everywhere but production."""
        return self.introspection if self.introspection is not None else not self.is_production

    @property
    def jwks_url(self) -> str | None:
        """The JWKS location: explicit, else derived from the issuer."""
        if self.auth_jwks_url:
            return self.auth_jwks_url
        return f"{self.auth_issuer.rstrip('/')}/v1/keys" if self.auth_issuer else None

    @cached_property
    def dev_key_path(self) -> Path:
        """Where dev auth keeps its signing key: beside a local SQLite file, else cwd."""
        if self.dev_key_file:
            return Path(self.dev_key_file)
        prefix = "sqlite:///"
        if self.database_url.startswith(prefix) and ":memory:" not in self.database_url:
            db_path = Path(self.database_url[len(prefix):])
            return db_path.with_name(db_path.name + ".devkey.json")
        return Path("deal_desk.devkey.json")
