"""Our side of the Databricks boundary: token caching and early refresh, connector options, secrets kept out
of logs and reprs. No network host is contacted: credentials are fakes with azure-identity's get_token, and
engines connect to the recording fake warehouse."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from azure.core.credentials import AccessToken
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import CertificateCredential, ClientSecretCredential, ManagedIdentityCredential
from databricks.sql.auth.auth import get_python_sql_connector_auth_provider
from sqlalchemy.engine import make_url

from gateway.core.settings import Settings
from gateway.store import databricks
from gateway.store import engine as engines
from gateway.store.databricks import (
    AZURE_DATABRICKS_SCOPE,
    REFRESH_MARGIN_S,
    RETRY_AFTER_S,
    BearerCredentialsProvider,
    DatabricksM2MCredentialsProvider,
    RefreshingToken,
)
from tests.support.fake_warehouse import fake_warehouse

HOST = "adb-1234567890123456.7.azuredatabricks.net"
URL = f"databricks://{HOST}?http_path=/sql/1.0/warehouses/abc123&catalog=main&schema=deal_desk_test"
SECRETS = ("dapi-url-SECRET", "dapi-env-SECRET", "client-SECRET", "cert-pw-SECRET", "file-SECRET")


class Clock:
    """A settable time.time()."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


class FakeCredential:
    """azure-identity's TokenCredential.get_token: numbered tokens living `lifetime` seconds."""

    def __init__(self, clock: Clock, lifetime: float = 3600) -> None:
        self.clock, self.lifetime = clock, lifetime
        self.scopes: list[tuple[str, ...]] = []
        self.gate: threading.Event | None = None
        self.fail = False
        self.renew = True

    def get_token(self, *scopes: str, **_kwargs: Any) -> AccessToken:
        self.scopes.append(scopes)
        if self.gate is not None:
            assert self.gate.wait(5)
        if self.fail:
            raise ClientAuthenticationError("AADSTS7000215: Invalid client secret: client-SECRET")
        number = len(self.scopes) if self.renew else 1
        expires_on = int(self.clock.now + self.lifetime) if self.renew else 1_800_003_600
        return AccessToken(f"token-{number}", expires_on)


class Spawned:
    """Collects background work instead of starting threads, to run it when the test says."""

    def __init__(self) -> None:
        self.work: list[Callable[[], None]] = []

    def __call__(self, work: Callable[[], None]) -> None:
        self.work.append(work)

    def run(self) -> None:
        work, self.work = self.work, []
        for job in work:
            job()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def credential(clock: Clock) -> FakeCredential:
    return FakeCredential(clock)


def token_source(credential: FakeCredential, clock: Clock, spawn: Spawned) -> RefreshingToken:
    return RefreshingToken(credential, clock=clock, spawn=spawn)


def test_the_first_request_fetches_a_token_for_azure_databricks_then_reuses_it(
    credential: FakeCredential, clock: Clock
) -> None:
    spawn = Spawned()
    token = token_source(credential, clock, spawn)
    assert token.get() == "token-1"
    clock.now += 3600 - REFRESH_MARGIN_S - 1
    assert token.get() == "token-1"
    assert credential.scopes == [(AZURE_DATABRICKS_SCOPE,)]
    assert AZURE_DATABRICKS_SCOPE == "2ff814a6-3304-4ab8-85cb-cd0e6f879c1d/.default"
    assert spawn.work == []


def test_inside_the_margin_the_old_token_is_served_while_one_refresh_runs(
    credential: FakeCredential, clock: Clock
) -> None:
    spawn = Spawned()
    token = token_source(credential, clock, spawn)
    token.get()
    clock.now += 3600 - REFRESH_MARGIN_S + 1
    assert [token.get(), token.get(), token.get()] == ["token-1"] * 3
    assert len(spawn.work) == 1  # one refresh in flight, however many requests
    spawn.run()
    assert token.get() == "token-2"
    assert spawn.work == []


def test_a_request_does_not_wait_for_a_slow_refresh(credential: FakeCredential, clock: Clock) -> None:
    token = RefreshingToken(credential, clock=clock)  # real background threads
    token.get()
    credential.gate = threading.Event()
    clock.now += 3600 - 60
    started = time.monotonic()
    assert token.get() == "token-1"
    assert time.monotonic() - started < 1.0
    credential.gate.set()
    deadline = time.monotonic() + 5
    while token.get() != "token-2" and time.monotonic() < deadline:
        time.sleep(0.01)
    assert token.get() == "token-2"


def test_an_expired_token_is_replaced_before_the_request_goes_on(
    credential: FakeCredential, clock: Clock
) -> None:
    spawn = Spawned()
    token = token_source(credential, clock, spawn)
    token.get()
    clock.now += 3600
    assert token.get() == "token-2"
    assert spawn.work == []


def test_a_failed_refresh_keeps_the_token_logs_no_secret_and_retries_later(
    credential: FakeCredential, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    spawn = Spawned()
    token = token_source(credential, clock, spawn)
    token.get()
    credential.fail = True
    clock.now += 3600 - 100
    with caplog.at_level(logging.DEBUG):
        assert token.get() == "token-1"
        spawn.run()
    assert "ClientAuthenticationError" in caplog.text
    assert "SECRET" not in caplog.text
    assert token.get() == "token-1" and spawn.work == []  # no retry storm
    clock.now += RETRY_AFTER_S + 1
    credential.fail = False
    assert token.get() == "token-1"
    spawn.run()
    assert token.get() == "token-3"


def test_a_credential_handing_back_the_same_token_is_not_asked_on_every_request(
    credential: FakeCredential, clock: Clock
) -> None:
    spawn = Spawned()
    credential.renew = False
    token = token_source(credential, clock, spawn)
    token.get()
    clock.now = 1_800_003_600 - 100
    token.get()
    spawn.run()
    token.get()
    assert spawn.work == []
    clock.now += RETRY_AFTER_S + 1
    token.get()
    assert len(spawn.work) == 1


class NoHttp:
    """An http_client the connector must not use: a non-JWT token is not exchanged."""

    def request(self, *_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("the connector tried to call a host")


def test_the_provider_fits_the_connectors_credentials_provider_interface(
    credential: FakeCredential, clock: Clock
) -> None:
    token = token_source(credential, clock, Spawned())
    provider = BearerCredentialsProvider(token.get, "azure-sp")
    auth = get_python_sql_connector_auth_provider(HOST, NoHttp(), credentials_provider=provider)
    headers: dict[str, str] = {}
    auth.add_headers(headers)
    assert headers == {"Authorization": "Bearer token-1"}
    assert provider.auth_type() == "azure-sp"
    assert "token-1" not in repr(provider) + repr(token)


def settings(**values: Any) -> Settings:
    return Settings(database_url=URL, _env_file=None, **values)  # type: ignore[call-arg]


def test_settings_never_show_a_secret() -> None:
    url = URL.replace("databricks://", "databricks://token:dapi-url-SECRET@")
    shown = Settings(database_url=url, databricks_token="dapi-env-SECRET",  # type: ignore[call-arg]
                     databricks_client_secret="client-SECRET",
                     databricks_certificate_password="cert-pw-SECRET",
                     _env_file=None)
    for text in (repr(shown), str(shown)):
        assert not any(secret in text for secret in SECRETS), text


def test_secrets_may_come_from_files(tmp_path: Path) -> None:
    path = tmp_path / "client-secret"
    path.write_text("file-SECRET\n")
    secret = databricks.secret(None, str(path))
    assert secret is not None and secret.get_secret_value() == "file-SECRET"
    assert "file-SECRET" not in repr(secret)


def test_pat_from_the_environment_a_file_or_the_url(tmp_path: Path) -> None:
    url = make_url(URL)
    assert databricks.connect_arguments(url, settings(databricks_token="dapi-env-SECRET"))["access_token"] \
        == "dapi-env-SECRET"
    path = tmp_path / "pat"
    path.write_text("file-SECRET")
    assert databricks.connect_arguments(url, settings(databricks_token_file=str(path)))["access_token"] \
        == "file-SECRET"
    with_password = url.set(username="token", password="dapi-url-SECRET")
    assert databricks.connect_arguments(with_password, settings())["access_token"] == "dapi-url-SECRET"
    with pytest.raises(ValueError, match="DEAL_DESK_DATABRICKS_TOKEN"):
        databricks.connect_arguments(url, settings())


def test_azure_service_principal_with_a_secret() -> None:
    chosen = settings(databricks_auth="azure-sp", databricks_tenant_id="tenant",
                      databricks_client_id="client", databricks_client_secret="client-SECRET")
    assert isinstance(databricks.azure_credential(chosen), ClientSecretCredential)
    options = databricks.connect_arguments(make_url(URL), chosen)
    assert options["access_token"] is None
    assert isinstance(options["credentials_provider"], BearerCredentialsProvider)


def test_azure_service_principal_with_a_certificate(tmp_path: Path) -> None:
    chosen = settings(databricks_auth="azure-sp", databricks_tenant_id="tenant",
                      databricks_client_id="client",
                      databricks_certificate_path=str(self_signed_pem(tmp_path)))
    assert isinstance(databricks.azure_credential(chosen), CertificateCredential)


def test_azure_managed_identity_system_or_user_assigned() -> None:
    assert isinstance(databricks.azure_credential(settings(databricks_auth="azure-msi")),
                      ManagedIdentityCredential)
    chosen = settings(databricks_auth="azure-msi", databricks_client_id="user-assigned-client")
    assert isinstance(databricks.azure_credential(chosen), ManagedIdentityCredential)


def test_databricks_oauth_m2m_is_set_up_on_first_connect_not_at_start() -> None:
    chosen = settings(databricks_auth="oauth-m2m", databricks_client_id="sp-client",
                      databricks_client_secret="client-SECRET")
    provider = databricks.connect_arguments(make_url(URL), chosen)["credentials_provider"]
    assert isinstance(provider, DatabricksM2MCredentialsProvider)
    assert provider.auth_type() == "oauth-m2m"
    assert "SECRET" not in repr(provider)


@pytest.mark.parametrize("mode, missing", [
    ("azure-sp", "DEAL_DESK_DATABRICKS_TENANT_ID"),
    ("oauth-m2m", "DEAL_DESK_DATABRICKS_CLIENT_ID"),
])
def test_a_mode_without_its_settings_says_what_is_missing(mode: str, missing: str) -> None:
    with pytest.raises(ValueError, match=missing):
        databricks.connect_arguments(make_url(URL), settings(databricks_auth=mode))


@pytest.mark.parametrize("url, problem", [
    (URL.replace("&catalog=main", ""), "missing: catalog"),
    (URL.replace("?http_path=/sql/1.0/warehouses/abc123&", "?"), "missing: http_path"),
    (URL + "&_tls_no_verify=true", "unknown: _tls_no_verify"),
])
def test_the_url_must_name_the_warehouse_and_nothing_else(url: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        databricks.check_url(make_url(url))


def test_the_engine_uses_a_small_pool_and_keeps_no_password() -> None:
    url = URL.replace("databricks://", "databricks://token:dapi-url-SECRET@")
    engine = engines.create(url, settings())
    try:
        assert engine.dialect.name == "databricks"
        assert engine.pool.size() == 5  # type: ignore[attr-defined]
        assert not engine.pool._pre_ping  # type: ignore[attr-defined]  # idle ones only, below
        assert engine.url.password is None and "SECRET" not in str(engine.url)
    finally:
        engine.dispose()


def test_connections_in_steady_use_are_not_pinged_before_each_use() -> None:
    with fake_warehouse() as fake:
        engine = engines.create(URL, settings(databricks_token="dapi-SECRET"))
        for _ in range(3):
            with engine.connect() as connection:
                connection.exec_driver_sql("SELECT 42")
        engine.dispose()

    assert fake.sql().count("SELECT 42") == 3 and "SELECT 1" not in fake.sql()
    assert len(fake.connects) == 1


def test_an_idle_connection_that_fails_its_ping_is_replaced_before_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(databricks, "IDLE_PING_S", 0.0)  # every returned connection counts as idle
    with fake_warehouse() as fake:
        engine = engines.create(URL, settings(databricks_token="dapi-SECRET"))
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 42")
        fake.fail(ConnectionResetError("the warehouse restarted"), on="SELECT 1")
        with engine.connect() as connection:
            answered = connection.exec_driver_sql("SELECT 42").all()
        engine.dispose()

    assert answered == []  # the statement ran, on a new connection
    assert fake.sql() == ["SELECT 42", "SELECT 1", "SELECT 42"]
    assert len(fake.connects) == 2


def test_what_the_connector_is_given(caplog: pytest.LogCaptureFixture) -> None:
    chosen = settings(databricks_token="dapi-env-SECRET", databricks_statement_timeout_s=120)
    with caplog.at_level(logging.DEBUG), fake_warehouse() as fake:
        engine = engines.create(URL, chosen)
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
        engine.dispose()
    (given,) = fake.connects
    assert {key: given[key] for key in ("server_hostname", "http_path", "catalog", "schema")} == {
        "server_hostname": HOST, "http_path": "/sql/1.0/warehouses/abc123", "catalog": "main",
        "schema": "deal_desk_test"}
    assert given["use_inline_params"] is False  # native query parameters
    assert given["user_agent_entry"] == "sqlalchemy + deal-desk-gateway"
    assert given["session_configuration"] == {"STATEMENT_TIMEOUT": "120", "TIMEZONE": "UTC"}
    # TLS: the connector speaks HTTPS on 443 unless told otherwise, and nothing tells it otherwise.
    assert not {"_enable_ssl", "_tls_no_verify", "_tls_verify_hostname", "_port"} & set(given)
    assert not any(secret in caplog.text for secret in SECRETS)


def self_signed_pem(folder: Path) -> Path:
    """A throwaway certificate with its private key, as CertificateCredential reads it."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "deal-desk-test")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + dt.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    path = folder / "sp.pem"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption())
                     + cert.public_bytes(serialization.Encoding.PEM))
    return path
