"""When the pricing guidance is refreshed: at most every DEAL_DESK_GUIDANCE_REFRESH_S, by one worker.

A guidance read that finds the clock (pricing_segments' own row) older than the interval starts one
refresh in the background of this process; the refresh claims the clock in the store first, so of the
workers and replicas that saw it stale at once, one rewrites the figures and the others find it fresh.
`deal-desk insights refresh` refreshes at once, whatever the clock says.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from weakref import WeakKeyDictionary

import structlog
from sqlalchemy import Engine

from gateway.store import pricing
from gateway.store.database import Database

log = structlog.get_logger(__name__)
_running: WeakKeyDictionary[Engine, asyncio.Task[int | None]] = WeakKeyDictionary()


def is_stale(refreshed_at: dt.datetime | None, *, now: dt.datetime, refresh_s: float) -> bool:
    """Whether figures refreshed at `refreshed_at` (None: never) are due for a refresh at `now`."""
    return refreshed_at is None or now - refreshed_at >= dt.timedelta(seconds=refresh_s)


async def refresh(db: Database, *, refresh_s: float | None) -> int | None:
    """Refresh now unless another did within `refresh_s` seconds (None: refresh anyway); segments written.

    Three steps: claim the clock (a short write), compute the figures (a read: at the 7-year volumes it
    takes seconds, and on SQLite a write transaction that long would hold every writer back), then
    replace the rows (a short write). A refresh that dies between them leaves the old figures until the
    next interval.
    """
    now = dt.datetime.now(dt.UTC)
    stale_before = None if refresh_s is None else now - dt.timedelta(seconds=refresh_s)
    if not await db.write(pricing.claim, now=now, stale_before=stale_before):
        return None
    rows = await db.read(pricing.compute, now=now)
    return await db.write(pricing.replace, rows=rows)


def start(db: Database, *, refresh_s: float) -> asyncio.Task[int | None]:
    """The background refresh of this process's store: the running one, else a new one."""
    task = _running.get(db.engine)
    if task is None or task.done():
        task = _running[db.engine] = asyncio.get_running_loop().create_task(_logged(db, refresh_s))
    return task


def running(db: Database) -> asyncio.Task[int | None] | None:
    """The background refresh of the store started by this process, if any (tests wait for it)."""
    return _running.get(db.engine)


async def _logged(db: Database, refresh_s: float) -> int | None:
    try:
        written = await refresh(db, refresh_s=refresh_s)
    except Exception as error:  # the figures stay as they were; the next stale read tries again
        log.warning("pricing guidance refresh failed", error_type=type(error).__name__)
        return None
    if written is not None:
        log.info("pricing guidance refreshed", segments=written)
    return written
