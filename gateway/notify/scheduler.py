"""Reminders and escalation: a task of every `serve` process, ticking every DEAL_DESK_SCHEDULER_INTERVAL_S.

Each tick finds the PENDING stages whose reminder or escalation is due and acts on each in a transaction
of its own (gateway/workflow/escalation.py). Several workers and replicas tick side by side; the stage's own
compare-and-set is the lease that lets exactly one of them act on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt

import structlog

from gateway.core.errors import GatewayError
from gateway.core.settings import Settings
from gateway.events.broker import Broker, Event
from gateway.store.database import Database
from gateway.workflow import escalation

log = structlog.get_logger("deal_desk.scheduler")


class Scheduler:
    """Acts on service levels until stopped."""

    def __init__(self, db: Database, settings: Settings, broker: Broker) -> None:
        self.db, self.settings, self.broker = db, settings, broker
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Tick in the background on the current event loop."""
        self._task = asyncio.create_task(self._run(), name="notify-scheduler")

    async def stop(self) -> None:
        """Stop ticking."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.settings.scheduler_interval_s)  # not at once: start-up stays quick
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the store is away: the next tick tries again
                log.warning("scheduler tick failed", error_type=type(error).__name__)

    async def tick(self) -> int:
        """Remind and escalate what is due now; how many stages this process acted on."""
        now = dt.datetime.now(dt.UTC)
        acted = 0
        for approval_id, what in await self.db.read(escalation.due_work, now=now):
            try:
                if what == "escalate":
                    deal_id = await self.db.write(escalation.escalate, approval_id=approval_id, at=now)
                    if deal_id is not None:
                        acted += 1
                        await self.broker.publish(Event(kind="ESCALATED", deal_id=deal_id,
                                                        actor_user_id=escalation.SYSTEM.user_id, at=now))
                elif await self.db.write(escalation.remind, approval_id=approval_id, at=now):
                    acted += 1
            except GatewayError:  # another worker acted on the deal at the same moment: it is theirs
                continue
        return acted
