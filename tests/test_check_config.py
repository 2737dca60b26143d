"""`deal-desk check-config`: effective settings with secrets masked, unknown or bad variables, live checks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from gateway.core.settings import Settings
from gateway.store.database import Database
from gateway.store.migrate import migrate
from tests.support.okta import OktaServer, okta_keys, okta_server

__all__ = ["okta_keys", "okta_server"]

DEAL_DESK = str(Path(sys.executable).with_name("deal-desk"))
SECRETS = {"DEAL_DESK_DATABRICKS_TOKEN": "dapi-secret-4711",
           "DEAL_DESK_DATABRICKS_CLIENT_SECRET": "cs-secret-4712"}


def check_config(cwd: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    """`deal-desk check-config` with only `variables` among the DEAL_DESK_* ones."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEAL_DESK_")} | variables
    return subprocess.run([DEAL_DESK, "check-config"], env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=60)


def settings_printed(stdout: str) -> dict[str, str]:
    """The printed settings, by variable."""
    lines = [line.split("  # ")[0] for line in stdout.splitlines() if line.startswith("DEAL_DESK_")]
    return dict(line.split("=", 1) for line in lines)


def with_password(url: str, password: str) -> str:
    """`url` logging in with `password` (the test servers trust local connections whatever it is)."""
    parsed = make_url(url)
    return parsed.set(password=password).render_as_string(hide_password=False) if parsed.host else url


def test_a_migrated_store_answers_and_every_setting_is_printed_with_secrets_masked(
    settings: Settings, tmp_path: Path,
) -> None:
    db = Database(settings.database_url)
    migrate(db.engine)
    db.dispose()
    url = with_password(settings.database_url, "pg-secret-4713")
    done = check_config(tmp_path, DEAL_DESK_DATABASE_URL=url, DEAL_DESK_PAGE_SIZE_MAX="200", **SECRETS)
    assert done.returncode == 0, done.stdout + done.stderr
    printed = settings_printed(done.stdout)
    assert set(printed) == {f"DEAL_DESK_{field.upper()}" for field in Settings.model_fields}
    assert printed["DEAL_DESK_PAGE_SIZE_MAX"] == "200" and printed["DEAL_DESK_ENV"] == "development"
    assert {printed[name] for name in SECRETS} == {"********"}
    for secret in [*SECRETS.values(), "pg-secret-4713"]:
        assert secret not in done.stdout + done.stderr
    dialect = make_url(settings.database_url).get_backend_name()
    assert f"ok    store: {dialect} answers; schema up to date" in done.stdout.splitlines()
    assert "ok    auth: dev tokens (no DEAL_DESK_AUTH_ISSUER; refused in production)" in done.stdout


def test_an_unknown_variable_or_a_bad_value_fails_naming_it_and_not_its_value(tmp_path: Path) -> None:
    done = check_config(tmp_path, DEAL_DESK_PAGE_SIZE_MAXX="100", DEAL_DESK_RATE_LIMIT_BURST="burst-4714",
                        DEAL_DESK_DEMO_SCALE="2")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "error: unknown variable DEAL_DESK_PAGE_SIZE_MAXX (did you mean DEAL_DESK_PAGE_SIZE_MAX?)",
        "error: DEAL_DESK_RATE_LIMIT_BURST: Input should be a valid integer, "
        "unable to parse string as an integer",
    ]
    assert "burst-4714" not in done.stdout + done.stderr


def test_a_log_level_logging_does_not_know_is_a_bad_value(tmp_path: Path) -> None:
    assert check_config(tmp_path, DEAL_DESK_LOG_LEVEL="warning").returncode != 2
    done = check_config(tmp_path, DEAL_DESK_LOG_LEVEL="verbose")
    assert done.returncode == 2
    assert done.stderr.startswith("error: DEAL_DESK_LOG_LEVEL: Input should be 'DEBUG'")


def test_a_store_that_does_not_answer_fails_the_check_without_a_trace(tmp_path: Path) -> None:
    done = check_config(tmp_path, DEAL_DESK_DATABASE_URL="postgresql://gw:pg-secret-4715@127.0.0.1:1/deal_desk")
    assert done.returncode == 1
    assert "FAIL  store: does not answer (OperationalError)" in done.stdout.splitlines()
    assert "Traceback" not in done.stdout + done.stderr and "pg-secret-4715" not in done.stdout + done.stderr


def test_the_jwks_is_fetched_and_a_failing_one_fails_the_check(okta_server: OktaServer,
                                                              tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path}/deal_desk.db"
    done = check_config(tmp_path, DEAL_DESK_DATABASE_URL=store, DEAL_DESK_AUTH_ISSUER=okta_server.issuer)
    assert done.returncode == 0, done.stdout
    assert f"ok    auth: JWKS {okta_server.jwks_url} serves 2 signing key(s)" in done.stdout.splitlines()
    okta_server.fail_with(500)
    done = check_config(tmp_path, DEAL_DESK_DATABASE_URL=store, DEAL_DESK_AUTH_ISSUER=okta_server.issuer)
    assert done.returncode == 1
    assert "FAIL  auth: does not answer (HTTPStatusError)" in done.stdout.splitlines()


@pytest.mark.parametrize(("variables", "failed"), [
    ({"DEAL_DESK_ENV": "production"},
     "FAIL  auth: DEAL_DESK_ENV=production refuses dev auth: set DEAL_DESK_AUTH_ISSUER"),
    ({"DEAL_DESK_EVENTS_URL": "redis://:redis-secret-4716@127.0.0.1:1/0"},
     "FAIL  events: does not answer (ConnectionError)"),
], ids=["production-dev-auth", "redis-down"])
def test_what_serving_would_refuse_fails_the_check(variables: dict[str, str], failed: str,
                                                   tmp_path: Path) -> None:
    done = check_config(tmp_path, DEAL_DESK_DATABASE_URL=f"sqlite:///{tmp_path}/deal_desk.db", **variables)
    assert done.returncode == 1
    assert failed in done.stdout.splitlines()
    assert "redis-secret-4716" not in done.stdout + done.stderr
