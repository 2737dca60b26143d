"""The outbox's dispatcher: a task of every `serve` process that delivers the due rows it manages to lease.

It wakes on every deal event this process hears of (the broker: with Redis, every replica's) and at least
every DEAL_DESK_NOTIFY_POLL_S. Each pass leases due rows in the store (gateway/store/outbox.py), so with
several workers and replicas exactly one of them attempts each row. A failed attempt is retried after an
exponential backoff (DEAL_DESK_NOTIFY_BACKOFF_S, doubled each time, at most DEAL_DESK_NOTIFY_BACKOFF_MAX_S)
until the row is DEAL_DESK_NOTIFY_MAX_AGE_H old or has had DEAL_DESK_NOTIFY_MAX_ATTEMPTS, then it is FAILED.
A crash between the lease and the record of the answer leaves the row PENDING: once the lease runs out it is
delivered again (the only way a duplicate can happen).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import random
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import structlog
from sqlalchemy import Row

from gateway.core import metrics
from gateway.core.ids import new_id
from gateway.core.settings import Settings
from gateway.events.broker import Broker
from gateway.store import outbox
from gateway.store.database import Database

log = structlog.get_logger("deal_desk.notify")

BATCH = 50


class DeliveryError(Exception):
    """An attempt failed: `code` names why (recorded, never a message), `permanent` when retrying is vain."""

    def __init__(self, code: str, *, permanent: bool = False) -> None:
        super().__init__(code)
        self.code, self.permanent = code, permanent


Deliver = Callable[[Row[Any], dict[str, Any]], Awaitable[None]]
"""Delivers one row (its decoded payload given); DeliveryError when it did not arrive."""


class Dispatcher:
    """Leases due rows, delivers them through their channel's Deliver, records the outcome."""

    def __init__(self, db: Database, settings: Settings, channels: Mapping[str, Deliver],
                 broker: Broker | None = None) -> None:
        self.db, self.settings, self.channels, self.broker = db, settings, dict(channels), broker
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        """Run in the background on the current event loop until `stop`."""
        self._tasks.append(asyncio.create_task(self._run(), name="notify-dispatcher"))
        if self.broker is not None:
            self._tasks.append(asyncio.create_task(self._listen(self.broker), name="notify-wake"))

    def wake(self) -> None:
        """Look for due rows now."""
        self._wake.set()

    async def stop(self) -> None:
        """Stop after the current pass (a row being delivered stays leased and is retried elsewhere)."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    async def _listen(self, broker: Broker) -> None:
        while True:
            try:
                async with broker.subscribe() as events:
                    async for _event in events:
                        self.wake()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the broker went away: polling goes on meanwhile
                log.warning("dispatcher stopped hearing deal events", error_type=type(error).__name__)
                await asyncio.sleep(self.settings.notify_poll_s)

    async def _run(self) -> None:
        while True:
            try:
                delivered = await self.pass_once()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the store is down: try again on the next tick
                log.warning("outbox pass failed", error_type=type(error).__name__)
                delivered = 0
            if delivered:
                continue  # there may be more due
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.notify_poll_s)

    async def pass_once(self) -> int:
        """Lease the due rows and deliver them; how many were attempted."""
        owner, now = new_id(), dt.datetime.now(dt.UTC)
        rows = await self.db.write(outbox.claim, owner=owner, now=now, lease_s=self.settings.notify_lease_s,
                                   limit=BATCH)
        await asyncio.gather(*(self._attempt(row, owner) for row in rows))
        return len(rows)

    async def _attempt(self, row: Row[Any], owner: str) -> None:
        deliver = self.channels.get(row.channel)
        try:
            if deliver is None:
                raise DeliveryError("channel_off")
            await deliver(row, json.loads(row.payload))
        except DeliveryError as error:
            await self._failed(row, owner, error.code, permanent=error.permanent)
        except Exception as error:
            log.warning("notification delivery broke", channel=row.channel, kind=row.kind,
                        error_type=type(error).__name__)
            await self._failed(row, owner, "internal_error", permanent=False)
        else:
            await self.db.write(outbox.mark_sent, row_id=row.id, owner=owner, now=dt.datetime.now(dt.UTC))
            metrics.NOTIFICATIONS.labels(channel=row.channel, outcome="sent").inc()

    async def _failed(self, row: Row[Any], owner: str, code: str, *, permanent: bool) -> None:
        now = dt.datetime.now(dt.UTC)
        attempts = row.attempts + 1
        too_old = now - row.created_at >= dt.timedelta(hours=self.settings.notify_max_age_h)
        if permanent or too_old or attempts >= self.settings.notify_max_attempts:
            await self.db.write(outbox.mark_failed, row_id=row.id, owner=owner, error=code)
            metrics.NOTIFICATIONS.labels(channel=row.channel, outcome="failed").inc()
            log.warning("notification failed", channel=row.channel, kind=row.kind, error=code,
                        attempts=attempts)
            return
        await self.db.write(outbox.mark_retry, row_id=row.id, owner=owner, error=code,
                            next_attempt_at=now + dt.timedelta(seconds=self.backoff_s(attempts)))
        metrics.NOTIFICATIONS.labels(channel=row.channel, outcome="retry").inc()

    def backoff_s(self, attempts: int) -> float:
        """The wait before attempt `attempts + 1`: doubling from the base, capped, with 10% jitter."""
        base = min(self.settings.notify_backoff_s * 2 ** (attempts - 1), self.settings.notify_backoff_max_s)
        return float(base * random.uniform(0.9, 1.1))
