"""`deal-desk check-config`: the effective settings, secrets masked; then do the store and the JWKS answer.

Exit status: 0 when every check passes, 1 when one fails, 2 for an unknown DEAL_DESK_* variable or bad value.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr, ValidationError
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from gateway.core.settings import ConfigError, Settings

PREFIX = "DEAL_DESK_"
MASK = "********"
NOT_SETTINGS = frozenset({
    "DEAL_DESK_DEMO_SCALE",  # scripts/demo: months of demo data
    "DEAL_DESK_TEST_POSTGRES_URL", "DEAL_DESK_TEST_DATABRICKS_URL", "DEAL_DESK_REQUIRE_SPARK",  # the tests
})
"""DEAL_DESK_* variables that scripts/ and the tests read, not the gateway."""
URL_SETTINGS = ("database_url", "events_url")  # may carry a password
CONNECT_TIMEOUT_S = 5


@dataclass(frozen=True)
class Check:
    """The outcome of one check: what was checked, whether it passed, and a line for the operator."""

    name: str
    ok: bool
    detail: str


def variable(field: str) -> str:
    """The environment variable of a settings field."""
    return PREFIX + field.upper()


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """`DEAL_DESK_*` variables that no setting reads, each with the closest known name when one is close."""
    known = {variable(field) for field in Settings.model_fields} | NOT_SETTINGS
    unknown = sorted(name for name in environ if name.startswith(PREFIX) and name not in known)
    return [_with_hint(name, known) for name in unknown]


def _with_hint(name: str, known: set[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    return f"{name} (did you mean {close[0]}?)" if close else name


def bad_values(error: ValidationError) -> list[str]:
    """One line per refused value, naming its variable; never the value itself (it may be a secret)."""
    lines = []
    for problem in error.errors(include_input=False, include_url=False):
        field = str(problem["loc"][0]) if problem["loc"] else ""
        lines.append(f"{variable(field) if field else 'settings'}: {problem['msg']}")
    return lines


def effective(settings: Settings, environ: Mapping[str, str]) -> Iterator[tuple[str, str, str]]:
    """(variable, shown value, "env" or "default") for every setting, secrets masked."""
    for field in Settings.model_fields:
        name = variable(field)
        yield name, shown(field, getattr(settings, field)), "env" if name in environ else "default"


def shown(field: str, value: object) -> str:
    """A setting's value as check-config prints it: secrets and URL passwords masked."""
    if value is None:
        return ""
    if isinstance(value, SecretStr):
        return MASK
    if field in URL_SETTINGS and isinstance(value, str):
        return _masked_url(value)
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value).lower() if isinstance(value, bool) else str(value)


def _masked_url(url: str) -> str:
    try:
        parsed = make_url(url)
    except ArgumentError:
        return MASK  # not a URL we can read: show nothing of it
    return parsed.set(password=MASK).render_as_string(hide_password=False) if parsed.password else url


def checks(settings: Settings) -> list[Check]:
    """The store, authentication, approval rules and (when configured) the Redis broker."""
    found = [_run("store", lambda: _store(settings)), _run("auth", lambda: _auth(settings)),
             _run("approval rules", lambda: _rules(settings))]
    if settings.events_url:
        found.append(_run("events", lambda: _events(settings.events_url or "")))
    return found


def _run(name: str, check: Callable[[], str]) -> Check:
    """`check()`'s line, or the failure: our own configuration messages in full, other errors by type."""
    try:
        return Check(name, True, check())
    except (ConfigError, ValueError) as error:
        return Check(name, False, str(error))
    except Exception as error:  # a driver's or HTTP client's message may hold a host, SQL or a secret
        return Check(name, False, f"does not answer ({type(error).__name__})")


def _store(settings: Settings) -> str:
    from gateway.store import engine as engines
    from gateway.store.migrate import MIGRATIONS, applied_versions

    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).exists():
        return f"sqlite: no file at {url.database} yet; `deal-desk serve` or `migrate` creates it"
    if url.get_backend_name() == "postgresql" and "connect_timeout" not in url.query:
        url = url.update_query_dict({"connect_timeout": str(CONNECT_TIMEOUT_S)})
    engine = engines.create(url.render_as_string(hide_password=False), settings)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            migrated = inspect(connection).has_table("schema_version")
            applied = applied_versions(connection) if migrated else set()
    finally:
        engine.dispose()
    pending = [migration.version for migration in MIGRATIONS if migration.version not in applied]
    state = "up to date" if not pending else (
        f"{len(pending)} of {len(MIGRATIONS)} migrations pending; `serve` migrates it")
    return f"{engine.dialect.name} answers; schema {state}"


def _auth(settings: Settings) -> str:
    if not settings.auth_issuer:
        if settings.is_production:
            raise ConfigError("DEAL_DESK_ENV=production refuses dev auth: set DEAL_DESK_AUTH_ISSUER")
        return "dev tokens (no DEAL_DESK_AUTH_ISSUER; refused in production)"
    from auth.okta import signing_keys_served

    return f"JWKS {settings.jwks_url} serves {signing_keys_served(settings)} signing key(s)"


def _rules(settings: Settings) -> str:
    from gateway.workflow.rules_file import approval_rules

    rules = approval_rules(settings.approval_rules_file)
    return f"{len(rules)} stage rule(s) from {settings.approval_rules_file or 'the built-in defaults'}"


def _events(url: str) -> str:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT_S,
                                  socket_timeout=CONNECT_TIMEOUT_S)
    try:
        client.ping()
    finally:
        client.close()
    return f"Redis at {_masked_url(url)} answers"
