"""A fake Slack Web API on loopback that records every call, and interactivity requests signed as Slack signs.

The gateway's slack-sdk client talks to it through DEAL_DESK_SLACK_API_URL. It knows a few people by
e-mail (users.lookupByEmail, users.info), answers chat.postMessage, chat.update and views.open, and can
be told to hold a method's answers (to crash the gateway in the middle of a delivery) or to fail them.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"  # Slack's documentation example's shape
BOT_TOKEN = "xoxb-test-token"


@dataclass
class Call:
    """One Web API call the fake received."""

    method: str
    params: dict[str, Any]
    token: str | None
    at: float = field(default_factory=time.monotonic)


class FakeSlack:
    """Slack's Web API, as much of it as the gateway uses."""

    def __init__(self, people: dict[str, str]) -> None:
        self.people = dict(people)  # email -> Slack user id
        self.calls: list[Call] = []
        self.held: set[str] = set()  # methods whose answers wait until released
        self.errors: dict[str, str] = {}  # method -> the Slack error it answers with
        self._lock = threading.Lock()
        self.socket = socket.create_server(("127.0.0.1", 0))
        app = Starlette(routes=[Route("/api/{method}", self._answer, methods=["GET", "POST"])])
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        self.thread = threading.Thread(target=self._serve, daemon=True, name="fake-slack")
        self.messages = 0

    @property
    def url(self) -> str:
        """The API base URL (what DEAL_DESK_SLACK_API_URL names)."""
        host, port = self.socket.getsockname()[:2]
        return f"http://{host}:{port}/api/"

    def _serve(self) -> None:
        asyncio.run(self.server.serve(sockets=[self.socket]))

    async def _answer(self, request: Request) -> JSONResponse:
        method = request.path_params["method"]
        params: dict[str, Any] = dict(request.query_params)
        body = await request.body()
        if body:
            if request.headers.get("content-type", "").startswith("application/json"):
                params.update(json.loads(body))
            else:
                params.update(dict(urllib.parse.parse_qsl(body.decode())))
        auth = request.headers.get("authorization", "")
        with self._lock:
            self.calls.append(Call(method, params, auth.removeprefix("Bearer ") or None))
        while method in self.held:
            await asyncio.sleep(0.02)
        if method in self.errors:
            return JSONResponse({"ok": False, "error": self.errors[method]})
        return JSONResponse(self._result(method, params))

    def _result(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "users.lookupByEmail":
            user = self.people.get(str(params.get("email", "")).lower())
            return {"ok": True, "user": {"id": user}} if user else {"ok": False, "error": "users_not_found"}
        if method == "users.info":
            emails = {uid: email for email, uid in self.people.items()}
            email = emails.get(str(params.get("user")))
            if email is None:
                return {"ok": False, "error": "user_not_found"}
            return {"ok": True, "user": {"id": params["user"], "profile": {"email": email}}}
        if method == "chat.postMessage":
            with self._lock:
                self.messages += 1
                ts = f"{int(time.time())}.{self.messages:06d}"
            return {"ok": True, "channel": params.get("channel"), "ts": ts,
                    "message": {"text": params.get("text")}}
        if method in ("chat.update", "views.open"):
            return {"ok": True}
        return {"ok": False, "error": "unknown_method"}

    def of(self, method: str) -> list[Call]:
        """The calls of `method` so far, in order."""
        with self._lock:
            return [call for call in self.calls if call.method == method]

    def wait_for(self, method: str, count: int = 1, timeout_s: float = 10.0) -> list[Call]:
        """Block until `count` calls of `method` arrived; AssertionError after `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        while len(calls := self.of(method)) < count:
            assert time.monotonic() < deadline, f"{method}: {len(calls)} of {count} calls in {timeout_s}s"
            time.sleep(0.02)
        return calls

    def start(self) -> None:
        """Serve until `stop`."""
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "the fake Slack did not start"
            time.sleep(0.01)

    def stop(self) -> None:
        """Stop serving."""
        self.held.clear()
        self.server.should_exit = True
        self.thread.join(10)
        self.socket.close()


@contextmanager
def fake_slack(people: dict[str, str]) -> Iterator[FakeSlack]:
    """A FakeSlack serving until the block ends."""
    slack = FakeSlack(people)
    slack.start()
    try:
        yield slack
    finally:
        slack.stop()


def signed(body: str, *, secret: str = SIGNING_SECRET, at: int | None = None) -> dict[str, str]:
    """The headers Slack sends with an interactivity request: v0 HMAC-SHA256 of `v0:{ts}:{body}`."""
    ts = str(at if at is not None else int(time.time()))
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"x-slack-request-timestamp": ts, "x-slack-signature": f"v0={digest}",
            "content-type": "application/x-www-form-urlencoded"}


def form(payload: dict[str, Any]) -> str:
    """Slack's form-encoded body: one field, `payload`, holding the JSON."""
    return urllib.parse.urlencode({"payload": json.dumps(payload)})


def block_action(*, slack_user: str, action_id: str, approval_id: str, ts: str = "1.000001",
                 channel: str = "D1", trigger_id: str = "trigger-1") -> dict[str, Any]:
    """The `block_actions` payload of a click on one of the message's buttons."""
    return {"type": "block_actions", "user": {"id": slack_user}, "trigger_id": trigger_id,
            "container": {"type": "message", "message_ts": ts, "channel_id": channel},
            "channel": {"id": channel}, "message": {"ts": ts, "blocks": []},
            "actions": [{"action_id": action_id, "block_id": "decision", "value": approval_id,
                         "type": "button", "action_ts": str(time.time())}]}


def view_submission(*, slack_user: str, private_metadata: str, comment: str) -> dict[str, Any]:
    """The `view_submission` payload of the comment modal."""
    return {"type": "view_submission", "user": {"id": slack_user},
            "view": {"callback_id": "decision_comment", "private_metadata": private_metadata,
                     "state": {"values": {"comment": {"text": {"type": "plain_text_input",
                                                                "value": comment}}}}}}


async def post_interaction(base_url: str, body: str, headers: dict[str, str]) -> httpx.Response:
    """POST one interactivity request to the gateway."""
    async with httpx.AsyncClient(base_url=base_url) as client:
        return await client.post("/slack/interactions", content=body, headers=headers, timeout=10)
