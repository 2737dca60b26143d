"""A SIGKILL right after a mutation's response loses nothing: `deal-desk serve` as a real process, on each
store and on journaled writes (as on Databricks, where the Idempotency-Key's claim is in the journal)."""

from __future__ import annotations

import concurrent.futures
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select

from auth.dev import issue_token
from gateway.core.roles import Role
from gateway.core.settings import Settings
from gateway.core.tables import advertisers, audit_log, deal_scoping_requests, deals
from gateway.store.database import Database
from tests.support.audit import audit_rows, count
from tests.support.stores import WITH_JOURNAL, write_mode

STORE_KINDS = WITH_JOURNAL

DEAL_DESK = str(Path(sys.executable).with_name("deal-desk"))
READY_TIMEOUT_S = 30.0

CREATE_ADVERTISER = "mutation { createAdvertiser(input: {name: \"Acme\"}) { id } }"
CREATE_REQUEST = """
mutation Create($advertiserId: ID!) {
  createScopingRequest(input: {title: "Acme CTV", advertiserId: $advertiserId}) { id }
}
"""
CREATE_DEAL = """
mutation Create($input: CreateDealInput!) { createDeal(input: $input) { id } }
"""
READ_BACK = """
query Back($advertiserId: ID!, $requestId: ID!) {
  advertiser(id: $advertiserId) { name }
  scopingRequest(id: $requestId) { title status requestedBy { email } }
}
"""


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return int(probe.getsockname()[1])


class Process:
    """`deal-desk serve` in a subprocess of its own, on `port`."""

    def __init__(self, env: dict[str, str], port: int, log: Path) -> None:
        self.env, self.port, self.log = env, port, log
        self.url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start serving and wait until /readyz answers 200."""
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen([DEAL_DESK, "serve", "--port", str(self.port)], env=self.env,
                                         stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not self._ready():
            assert self.proc.poll() is None, f"deal-desk serve exited:\n{self.log.read_text()}"
            assert time.monotonic() < deadline, f"not ready in time:\n{self.log.read_text()}"
            time.sleep(0.1)

    def _ready(self) -> bool:
        try:
            return httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flushing, no goodbye."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def post(self, token: str, query: str, variables: dict[str, Any] | None = None,
             headers: dict[str, str] | None = None) -> httpx.Response:
        """POST a GraphQL document."""
        sent = {"authorization": f"Bearer {token}", **(headers or {})}
        return httpx.post(f"{self.url}/graphql", json={"query": query, "variables": variables or {}},
                          headers=sent, timeout=30)

    def data(self, token: str, query: str, variables: dict[str, Any] | None = None,
             headers: dict[str, str] | None = None) -> dict[str, Any]:
        """`data` of a request that must succeed."""
        body: dict[str, Any] = self.post(token, query, variables, headers).json()
        assert "errors" not in body, body
        return body["data"]  # type: ignore[no-any-return]

    def crash_after(self, token: str, query: str, variables: dict[str, Any] | None = None,
                    headers: dict[str, str] | None = None) -> dict[str, Any]:
        """Send a mutation, SIGKILL the server as soon as its answer arrives, and start it again."""
        try:
            data = self.data(token, query, variables, headers)
        finally:
            self.kill()
        self.start()
        return data


@pytest.fixture
def server(database_url: str, store_kind: str, tmp_path: Path) -> Iterator[Process]:
    """A `deal-desk serve` process on the test's store (started), killed at the end."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("DEAL_DESK_")}
    env |= {"DEAL_DESK_DATABASE_URL": database_url, "DEAL_DESK_DEV_KEY_FILE": str(tmp_path / "dev-key.json"),
            "DEAL_DESK_WRITE_MODE": write_mode(store_kind),
            "DEAL_DESK_IDEMPOTENCY_STALE_S": "1"}  # journaled: a dead process's claims resume after 1 s
    process = Process(env, free_port(), tmp_path / "serve.log")
    process.start()
    yield process
    process.kill()


@pytest.fixture
def store(database_url: str) -> Iterator[Engine]:
    """The store, read directly."""
    db = Database(database_url)
    yield db.engine
    db.dispose()


def token_for(server: Process, email: str, role: Role) -> str:
    """A dev token signed with the server's key."""
    settings = Settings(database_url=server.env["DEAL_DESK_DATABASE_URL"],
                        dev_key_file=server.env["DEAL_DESK_DEV_KEY_FILE"], _env_file=None)  # type: ignore[call-arg]
    return issue_token(settings, email=email, roles=[role], region="NA")


def audit_verify(server: Process) -> subprocess.CompletedProcess[str]:
    """`deal-desk audit verify` on the server's store."""
    return subprocess.run([DEAL_DESK, "audit", "verify"], env=server.env, capture_output=True, text=True,
                          timeout=120, check=False)


def deal_input(advertiser_id: str) -> dict[str, Any]:
    """A small valid CreateDealInput."""
    return {"name": "Acme Q3", "advertiserId": advertiser_id, "dealType": "PREFERRED_DEAL",
            "channels": ["DISPLAY"], "totalValue": "50000", "startDate": "2026-07-01",
            "endDate": "2026-09-30"}


def test_sigkill_after_a_response_loses_nothing(server: Process, store: Engine) -> None:
    desk = token_for(server, "desk@x.test", Role.DEAL_DESK)
    first = server.crash_after(desk, CREATE_ADVERTISER)
    advertiser_id = first["createAdvertiser"]["id"]
    request = server.crash_after(desk, CREATE_REQUEST, {"advertiserId": advertiser_id})
    request_id = request["createScopingRequest"]["id"]
    deal = server.crash_after(desk, CREATE_DEAL, {"input": deal_input(advertiser_id)})

    back = server.data(desk, READ_BACK, {"advertiserId": advertiser_id, "requestId": request_id})
    assert back == {"advertiser": {"name": "Acme"}, "scopingRequest": {
        "title": "Acme CTV", "status": "OPEN", "requestedBy": {"email": "desk@x.test"}}}
    for table, row_id in ((advertisers, advertiser_id), (deal_scoping_requests, request_id),
                          (deals, deal["createDeal"]["id"])):
        assert [r["operation"] for r in audit_rows(store, table, row_id)] == ["INSERT"]
    assert count(store, audit_log) > 3
    verified = audit_verify(server)
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_an_idempotent_retry_after_the_crash_replays(server: Process, store: Engine) -> None:
    desk = token_for(server, "desk@x.test", Role.DEAL_DESK)
    key = {"idempotency-key": "crash-2"}
    first = server.post(desk, CREATE_ADVERTISER, headers=key)
    server.kill()
    server.start()
    retried = server.post(desk, CREATE_ADVERTISER, headers=key)

    assert retried.headers["idempotent-replayed"] == "true" and retried.content == first.content
    assert count(store, advertisers) == 1


def test_every_unanswered_keyed_write_completes_once_when_retried_after_a_crash(
        server: Process, store: Engine) -> None:
    desk = token_for(server, "desk@x.test", Role.DEAL_DESK)
    advertiser_id = server.data(desk, CREATE_ADVERTISER)["createAdvertiser"]["id"]
    names = [f"Acme Q3 #{n}" for n in range(12)]
    answered: dict[str, bytes] = {}
    first_answer = threading.Event()

    def send(name: str) -> None:
        variables = {"input": {**deal_input(advertiser_id), "name": name}}
        try:
            response = server.post(desk, CREATE_DEAL, variables, headers={"idempotency-key": name})
        except httpx.TransportError:
            return  # cut short by the crash
        answered[name] = response.content
        first_answer.set()

    with concurrent.futures.ThreadPoolExecutor(len(names)) as pool:
        sent = [pool.submit(send, name) for name in names]
        assert first_answer.wait(30), "no write was answered"
        server.kill()  # the other writes are queued, running or committed but not yet answered
        concurrent.futures.wait(sent)
    server.start()
    retried = {name: server.post(desk, CREATE_DEAL, {"input": {**deal_input(advertiser_id), "name": name}},
                                 headers={"idempotency-key": name}) for name in names}

    assert 0 < len(answered) < len(names), "the crash should cut some writes short"
    assert all(r.status_code == 200 and "errors" not in r.json() for r in retried.values())
    assert all(retried[name].content == body for name, body in answered.items())  # replayed as sent
    with store.connect() as connection:
        stored = sorted(connection.execute(select(deals.c.name).where(deals.c.name.in_(names))).scalars())
    assert stored == sorted(names)  # each write happened exactly once
    verified = audit_verify(server)
    assert verified.returncode == 0, verified.stdout + verified.stderr
