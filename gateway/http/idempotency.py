"""Idempotency-Key on POST /graphql: a retry with the same key and caller gets the first response again.

On SQLite and PostgreSQL the request runs in one transaction (gateway/store/unit.py) that claims the key by
INSERT, makes the request's writes and stores its response, then commits before the response is sent:
a request cut short by a crash leaves no claim and no write, so its retry runs as new; one that committed
is replayed. A concurrent duplicate waits on the key's row lock (SQLite: the write lock) and then replays
the committed answer, or runs as new when the first one rolled back.

On Databricks, which has no multi-statement transactions, the key is claimed first by MERGE and a claim
token (gateway/store/idempotency.py) and its response stored before it is sent. The request's journaled
writes name the token (gateway/store/claims.py), so a claim a crash left unfinished is resolved by the
retry once it is `stale_after` old: the claim's unfinished writes are settled, then the request runs again
under the same claim with its committed writes replayed (the response rebuilt from the committed state)
and the others run as new.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import structlog
from sqlalchemy import Row
from sqlalchemy.exc import IntegrityError
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.core.errors import Conflict, GatewayError, ServiceUnavailable
from gateway.core.ids import new_id
from gateway.http.bodies import read_body, replaying
from gateway.http.replies import reply, respond
from gateway.store import claims
from gateway.store import idempotency as store
from gateway.store.database import Database
from gateway.store.unit import Unit

log = structlog.get_logger("deal_desk.idempotency")

HEADER = "idempotency-key"
FIELD = "Idempotency-Key"
MAX_KEY_LENGTH = 255
TTL = dt.timedelta(hours=24)
STALE_AFTER = dt.timedelta(seconds=60)  # DEAL_DESK_IDEMPOTENCY_STALE_S: longer than any request runs
WAIT_S = 10.0
RETRY_AFTER_S = 5
PURGE_EVERY_S = 600.0
STREAMING = ("multipart/mixed", "text/event-stream")


@dataclass(frozen=True)
class Keyed:
    """One keyed request: the caller's subject, the key and the fingerprint of the body."""

    sub: str
    key: str
    request_hash: str


@dataclass
class Captured:
    """A response held back until it is stored; a streamed one (a subscription) goes straight through."""

    downstream: Send
    on_stream: Callable[[], Awaitable[None]] | None = None  # before a streamed response's first message
    start: Message | None = None
    chunks: list[bytes] = field(default_factory=list)
    streamed: bool = False

    async def send(self, message: Message) -> None:
        """The `send` given to the app."""
        if message["type"] == "http.response.start":
            self.start = message
            content_type = Headers(raw=message.get("headers", [])).get("content-type", "")
            self.streamed = content_type.startswith(STREAMING)
            if self.streamed and self.on_stream is not None:
                await self.on_stream()
        if self.streamed:
            await self.downstream(message)
        elif message["type"] == "http.response.body":
            self.chunks.append(message.get("body", b""))

    @property
    def status(self) -> int:
        """The HTTP status (500 when the app sent none)."""
        return int(self.start["status"]) if self.start else 500

    @property
    def body(self) -> bytes:
        """The whole body."""
        return b"".join(self.chunks)

    async def forward(self, send: Send) -> None:
        """Send the response as the app wrote it."""
        assert self.start is not None
        await send(self.start)
        await send({"type": "http.response.body", "body": self.body})


class IdempotencyMiddleware:
    """Handles POSTs to `path` that carry an Idempotency-Key; runs after authentication."""

    def __init__(self, app: ASGIApp, *, db: Database, path: str = "/graphql",
                 stale_after: dt.timedelta = STALE_AFTER) -> None:
        self.app, self.db, self.path, self.stale_after = app, db, path, stale_after
        self.last_purge = float("-inf")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = self._key_of(scope)
        if key is None:
            await self.app(scope, receive, send)
            return
        if not 0 < len(key) <= MAX_KEY_LENGTH:
            await reply(send, 400, BadKey(f"{FIELD} must be 1 to {MAX_KEY_LENGTH} characters."))
            return
        body = await read_body(receive)
        if body is None:
            return  # the client went away before sending its request
        keyed = Keyed(scope["user"].sub, key, fingerprint(body))
        try:
            await self._handle(keyed, scope, replaying(body, receive), send)
        except ServiceUnavailable as error:
            await reply(send, 503, error, {"retry-after": str(RETRY_AFTER_S)})

    def _key_of(self, scope: Scope) -> str | None:
        """The key of a request this middleware handles, else None."""
        if scope["type"] != "http" or scope["method"] != "POST" or "user" not in scope:
            return None
        if scope["path"].rstrip("/") != self.path:
            return None
        return Headers(scope=scope).get(HEADER)

    async def _handle(self, keyed: Keyed, scope: Scope, receive: Receive, send: Send) -> None:
        if self.db.journaled:
            await self._handle_claimed_first(keyed, scope, receive, send)
            return
        await self._purge(utcnow())
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            response = await self._run_in_unit(keyed, scope, receive, send)
            if response is not None:
                if not response.streamed:
                    await response.forward(send)
                return
            row = await self.db.read(store.find, sub=keyed.sub, key=keyed.key, now=utcnow())
            if row is not None:  # committed by the request that held the key
                await answer(row, keyed, send)
                return
            # the holder rolled back (a retryable failure): claim again
        await reply(send, 409, StillRunning(), {"retry-after": str(RETRY_AFTER_S)})

    async def _run_in_unit(self, keyed: Keyed, scope: Scope, receive: Receive, send: Send) -> Captured | None:
        """Claim, run and answer in one transaction; None when another request holds the key."""
        async with self.db.unit() as unit:
            assert unit is not None
            try:
                await self.db.write(store.claim, sub=keyed.sub, key=keyed.key,
                                    request_hash=keyed.request_hash, now=utcnow(), ttl=TTL,
                                    in_request_transaction=True)
            except IntegrityError:  # committed by another request meanwhile (we waited on its lock)
                return None
            response = Captured(send, on_stream=partial(self._commit_streamed, unit, keyed))
            await self.app(scope, receive, response.send)
            if response.streamed:  # committed without an answer to replay (on_stream), and already sent
                return response
            if not is_retryable(response.status, response.body):
                await self.db.write(store.complete, sub=keyed.sub, key=keyed.key, status=response.status,
                                    body=response.body.decode())
                await unit.commit()
            return response  # a retryable failure: rolled back with its claim, the retry runs as new

    async def _commit_streamed(self, unit: Unit, keyed: Keyed) -> None:
        await self.db.write(store.release, sub=keyed.sub, key=keyed.key)
        await unit.commit()

    async def _handle_claimed_first(self, keyed: Keyed, scope: Scope, receive: Receive, send: Send) -> None:
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            claim = await self._claim(keyed)
            if claim is not None:
                await self._execute(keyed, scope, receive, send, claim)
                return
            row = await self._settled(keyed, deadline)
            if row is not None and self._abandoned(row, keyed):
                claim = await self._resume(keyed, row)
                if claim is not None:
                    await self._execute(keyed, scope, receive, send, claim)
                    return
                continue  # another retry resumed it first
            if row is not None:
                await answer(row, keyed, send)
                return
        await reply(send, 409, StillRunning(), {"retry-after": str(RETRY_AFTER_S)})

    async def _claim(self, keyed: Keyed) -> claims.RequestClaim | None:
        """The claim this request now holds on the key, or None when another holds it."""
        now, token = utcnow(), store.CLAIM_PREFIX + new_id()
        await self._purge(now)
        try:
            held = await self.db.write(store.claim, sub=keyed.sub, key=keyed.key, token=token,
                                       request_hash=keyed.request_hash, now=now, ttl=TTL)
        except (IntegrityError, Conflict):  # held by another request (Conflict: Delta kept refusing)
            return None
        return claims.RequestClaim(token) if held else None

    def _abandoned(self, row: Row[Any], keyed: Keyed) -> bool:
        """True for this request's claim left unfinished longer than any request runs (its process died)."""
        return bool(row.status == store.IN_PROGRESS and row.request_hash == keyed.request_hash
                    and row.created_at < utcnow() - self.stale_after)

    async def _resume(self, keyed: Keyed, row: Row[Any]) -> claims.RequestClaim | None:
        """Take over an abandoned claim, its writes settled: the claim with what committed, or None when
        another request took it over first."""
        token = str(row.response_body)
        replays = await self.db.write(claims.resolve, token=token)
        taken = await self.db.write(store.take_over, sub=keyed.sub, key=keyed.key, token=token,
                                    claimed_at=row.created_at, now=utcnow())
        if not taken:
            return None
        log.info("idempotency claim resumed", caller=keyed.sub, replayed=len(replays))
        return claims.RequestClaim(token, replays)

    async def _purge(self, now: dt.datetime) -> None:
        """Delete expired keys, at most every PURGE_EVERY_S per process."""
        if time.monotonic() < self.last_purge + PURGE_EVERY_S:
            return
        self.last_purge = time.monotonic()
        try:
            purged = await self.db.write(store.purge_expired, now=now)
        except Conflict:  # Databricks: concurrent claims kept winning; the next purge takes them
            return
        log.info("purged expired idempotency keys", count=purged)

    async def _settled(self, keyed: Keyed, deadline: float) -> Row[Any] | None:
        """The key's record once there is an answer in it (or the wait is over); None when it is gone."""
        delay = 0.02
        while True:
            row = await self.db.read(store.find, sub=keyed.sub, key=keyed.key, now=utcnow())
            if row is None or row.status == store.DONE or row.request_hash != keyed.request_hash:
                return row
            if self._abandoned(row, keyed) or time.monotonic() + delay >= deadline:
                return row
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.25)

    async def _execute(self, keyed: Keyed, scope: Scope, receive: Receive, send: Send,
                       claim: claims.RequestClaim) -> None:
        """Run the request under its claim, store its response (or release the key), then send it."""
        response = Captured(send)
        context = claims.current.set(claim)
        try:
            await self.app(scope, receive, response.send)
        except BaseException:
            await self._finish(store.release, keyed)
            raise
        finally:
            claims.current.reset(context)
        if response.streamed:  # already sent, and nothing to replay
            await self._finish(store.release, keyed)
            return
        if is_retryable(response.status, response.body):
            await self._finish(store.release, keyed)
        else:
            await self._finish(store.complete, keyed, status=response.status,
                               body=response.body.decode())
        await response.forward(send)

    async def _finish(self, fn: Any, keyed: Keyed, **values: Any) -> None:
        # A failure here leaves the claim IN_PROGRESS: retries get CONFLICT, never a second run.
        try:
            await self.db.write(fn, sub=keyed.sub, key=keyed.key, **values)
        except Exception as error:  # logged without its stack: no SQL or value reaches a log line
            log.error("idempotency key not settled", caller=keyed.sub, error_type=type(error).__name__)


class BadKey(GatewayError):
    """The Idempotency-Key header is unusable, or was used before with another body."""

    code = "BAD_USER_INPUT"

    def __init__(self, message: str) -> None:
        super().__init__(message, field=FIELD)


class StillRunning(GatewayError):
    """The request holding the key has not finished."""

    code = "CONFLICT"

    def __init__(self, message: str = f"A request with this {FIELD} is still running; retry later.") -> None:
        super().__init__(message, field=FIELD)


async def answer(row: Row[Any], keyed: Keyed, send: Send) -> None:
    """Answer from the key's record: the stored response, or why there is none."""
    if row.request_hash != keyed.request_hash:
        await reply(send, 422, BadKey(f"This {FIELD} was used with a different request body."))
    elif row.status == store.DONE:
        await respond(send, row.response_status, row.response_body.encode(),
                      {"idempotent-replayed": "true"})
    else:
        await reply(send, 409, StillRunning(), {"retry-after": str(RETRY_AFTER_S)})


def is_retryable(status: int, body: bytes) -> bool:
    """A server failure or an unavailable store, with no field of `data` answered (nothing was done)."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return status >= 500
    if not isinstance(parsed, dict):
        return status >= 500
    codes = {(error.get("extensions") or {}).get("code") for error in parsed.get("errors") or []}
    answered = any(value is not None for value in (parsed.get("data") or {}).values())
    return (status >= 500 or "SERVICE_UNAVAILABLE" in codes) and not answered


def fingerprint(body: bytes) -> str:
    """SHA-256 of the body, of its canonical JSON form when it is JSON (key order does not matter)."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, RecursionError):  # not JSON, or nested too deeply: the GraphQL app refuses it
        canonical = body
    return hashlib.sha256(canonical).hexdigest()


def utcnow() -> dt.datetime:
    """The current UTC instant."""
    return dt.datetime.now(dt.UTC)
