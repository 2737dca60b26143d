"""`deal-desk serve --workers N`: N uvicorn worker processes on one socket, each running a whole gateway.

The supervisor migrates the store once, then starts the workers, which do not migrate again.
What stays per process (docs/performance.md): rate-limit buckets, the verified-token and reference
caches, and, without DEAL_DESK_EVENTS_URL, subscription events (a subscriber hears only about
changes made through its own worker).
"""

from __future__ import annotations

import atexit
import gc
import logging
import os
import shutil

from starlette.applications import Starlette

from gateway import multiprocess_metrics
from gateway.settings import Settings

log = logging.getLogger("deal_desk.workers")

FACTORY = "gateway.workers:app"
# Young collections every 10,000 allocations instead of 700: with many requests in flight each one scans
# their live objects; 5% fewer instructions per deal page at 50 concurrent requests (docs/performance.md).
GC_THRESHOLDS = (10_000, 20, 20)


def serve(settings: Settings, *, host: str, port: int, workers: int) -> None:
    """Run `workers` worker processes until SIGTERM or SIGINT."""
    import uvicorn

    from gateway.logging import configure_logging

    configure_logging(settings.log_level)
    log.info("GraphiQL: http://%s:%d/graphql (%d workers)", host, port, workers)
    if not settings.events_url:
        log.warning("%d workers without DEAL_DESK_EVENTS_URL: subscribers only hear about changes "
                    "made through their own worker", workers)
    if settings.migrate_on_start:
        migrate_once(settings)
    os.environ["DEAL_DESK_MIGRATE_ON_START"] = "false"  # the workers' settings
    created = multiprocess_metrics.prepare()
    try:
        uvicorn.run(FACTORY, factory=True, host=host, port=port, workers=workers,
                    log_level=settings.log_level.lower(), log_config=None, access_log=False,
                    timeout_graceful_shutdown=30)
    finally:
        if created:
            shutil.rmtree(created, ignore_errors=True)


def migrate_once(settings: Settings) -> None:
    """Bring the store's schema up to date before any worker opens it."""
    from gateway.store.database import Database
    from gateway.store.migrate import migrate

    db = Database(settings.database_url, settings)
    try:
        migrate(db.engine)
    finally:
        db.dispose()


def app() -> Starlette:
    """One worker's gateway; uvicorn calls this in each worker process."""
    from gateway.app import create_app

    application = create_app(Settings())
    atexit.register(multiprocess_metrics.mark_dead, os.getpid())
    settle_heap()
    return application


def settle_heap() -> None:
    """Keep the startup heap (it lives as long as the process) out of later GC passes; fewer young passes."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
