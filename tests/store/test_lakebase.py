"""Lakebase logins: every new PostgreSQL connection gets a valid OAuth database token as its password, cached
and renewed 5 minutes before expiry. No host is contacted: the SDK client is a fake, connects are stopped."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import databricks.sdk
import pytest
from databricks.sdk.service import database as provisioned
from databricks.sdk.service import postgres as autoscaling
from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from gateway.core.errors import ServiceUnavailable
from gateway.core.settings import Settings
from gateway.store import engine as engines
from gateway.store import lakebase
from gateway.store.database import unavailable_on_connection_errors
from gateway.store.databricks import REFRESH_MARGIN_S, RefreshingToken
from gateway.store.lakebase import LakebaseCredential
from tests.store.test_databricks import Clock, Spawned
from tests.store.test_postgresql_tls import given

URL = "postgresql://6f1c0e1e-app-id@instance-123.database.azuredatabricks.net:5432/databricks_postgres?sslmode=require"
ENDPOINT = "projects/deal-desk/branches/production/endpoints/primary"


class FakeWorkspace:
    """The SDK's WorkspaceClient: numbered tokens living `lifetime` seconds from `clock`."""

    def __init__(self, clock: Clock, lifetime: float = 3600) -> None:
        self.clock, self.lifetime = clock, lifetime
        self.asked: list[dict[str, Any]] = []
        self.fail = False
        self.database, self.postgres = self, self

    def generate_database_credential(self, **request: Any) -> Any:
        self.asked.append(request)
        if self.fail:
            raise RuntimeError("PERMISSION_DENIED")
        token, expires = f"lakebase-SECRET-{len(self.asked)}", self.clock.now + self.lifetime
        if "endpoint" in request:
            return autoscaling.DatabaseCredential(token=token, expire_time=Timestamp(seconds=int(expires)))
        iso = dt.datetime.fromtimestamp(expires, dt.UTC).isoformat().replace("+00:00", "Z")
        return provisioned.DatabaseCredential(token=token, expiration_time=iso)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def workspace(clock: Clock) -> FakeWorkspace:
    return FakeWorkspace(clock)


def token_engine(workspace: FakeWorkspace, clock: Clock, spawn: Spawned, **target: str) -> Engine:
    """A PostgreSQL engine logging in with tokens from `workspace` on the test's clock."""
    engine = engines.create(URL)
    credential = LakebaseCredential(client=lambda: workspace, **(target or {"instance": "deal-desk"}))
    lakebase.log_in_with(engine, RefreshingToken(credential, "deal-desk", clock=clock, spawn=spawn).get)
    return engine


def test_each_new_connection_logs_in_with_the_cached_token(workspace: FakeWorkspace, clock: Clock) -> None:
    engine = token_engine(workspace, clock, Spawned())
    assert given(engine)["password"] == "lakebase-SECRET-1"
    assert given(engine)["password"] == "lakebase-SECRET-1"
    assert given(engine)["user"] == "6f1c0e1e-app-id"
    (request,) = workspace.asked
    assert request["instance_names"] == ["deal-desk"] and request["request_id"]


def test_the_token_is_renewed_in_the_background_5_minutes_before_expiry(
    workspace: FakeWorkspace, clock: Clock
) -> None:
    spawn = Spawned()
    engine = token_engine(workspace, clock, spawn)
    given(engine)
    clock.now += 3600 - REFRESH_MARGIN_S - 1
    assert given(engine)["password"] == "lakebase-SECRET-1" and spawn.work == []
    clock.now += 2
    assert given(engine)["password"] == "lakebase-SECRET-1"  # still valid: the login does not wait
    assert len(spawn.work) == 1
    spawn.run()
    assert given(engine)["password"] == "lakebase-SECRET-2" and len(workspace.asked) == 2


def test_an_expired_token_is_replaced_before_the_login(workspace: FakeWorkspace, clock: Clock) -> None:
    spawn = Spawned()
    engine = token_engine(workspace, clock, spawn)
    given(engine)
    clock.now += 3600
    assert given(engine)["password"] == "lakebase-SECRET-2" and spawn.work == []


def test_an_autoscaling_endpoint_gets_its_own_credentials(workspace: FakeWorkspace, clock: Clock) -> None:
    spawn = Spawned()
    engine = token_engine(workspace, clock, spawn, endpoint=ENDPOINT)
    assert given(engine)["password"] == "lakebase-SECRET-1"
    assert workspace.asked == [{"endpoint": ENDPOINT}]
    clock.now += 3600 - REFRESH_MARGIN_S + 1
    given(engine)
    assert len(spawn.work) == 1  # the protobuf expiry was read


def test_a_token_that_cannot_be_had_makes_the_store_unavailable_and_logs_no_secret(
    workspace: FakeWorkspace, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    spawn = Spawned()
    engine = token_engine(workspace, clock, spawn)
    given(engine)
    workspace.fail = True
    clock.now += 3600
    with caplog.at_level(logging.DEBUG), pytest.raises(ServiceUnavailable) as raised, \
            unavailable_on_connection_errors():
        engine.connect()
    assert isinstance(raised.value.__cause__, OperationalError)
    [logged] = [record.msg for record in caplog.records if record.name == "deal_desk.lakebase"]
    assert logged["event"] == "Lakebase database token unavailable" and logged["error_type"] == "RuntimeError"
    assert "SECRET" not in caplog.text and "SECRET" not in str(raised.value.__cause__)


def test_settings_wire_the_sdk_a_recycled_pool_and_no_password_in_the_url(
    monkeypatch: pytest.MonkeyPatch, workspace: FakeWorkspace, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(databricks.sdk, "WorkspaceClient", lambda: workspace)
    settings = Settings(lakebase_instance="deal-desk", _env_file=None)  # type: ignore[call-arg]
    with caplog.at_level(logging.DEBUG):
        engine = engines.create(URL, settings)
        cparams = given(engine)
    assert cparams["password"].startswith("lakebase-SECRET-") and cparams["sslmode"] == "require"
    assert workspace.asked[0]["instance_names"] == ["deal-desk"]
    assert engine.pool._recycle == lakebase.POOL_RECYCLE_S < 3600  # type: ignore[attr-defined]
    assert not engine.pool._pre_ping and engine.pool.dispatch.checkout  # type: ignore[attr-defined]  # idle ping
    assert engine.url.password is None and "SECRET" not in repr(engine) + caplog.text


def test_without_lakebase_settings_the_url_password_is_used() -> None:
    engine = engines.create(URL.replace("app-id@", "app-id:pw@"), Settings(_env_file=None))  # type: ignore[call-arg]
    assert given(engine)["password"] == "pw"
    assert engine.pool._recycle == -1  # type: ignore[attr-defined]


def test_an_instance_or_an_endpoint_not_both() -> None:
    with pytest.raises(ValueError, match="one of"):
        LakebaseCredential(instance="deal-desk", endpoint=ENDPOINT)
    with pytest.raises(ValueError, match="one of"):
        LakebaseCredential()


def test_the_expiry_is_read_from_either_answer() -> None:
    assert lakebase._expires_on("2030-01-01T00:00:00.123456789Z") == 1_893_456_000
    assert lakebase._expires_on(Timestamp(seconds=1_893_456_000)) == 1_893_456_000
