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

from gateway.core import multiprocess_metrics
from gateway.core.settings import Settings
from gateway.http import connections
from gateway.ops.metrics_port import serve_metrics

log = logging.getLogger("deal_desk.workers")

FACTORY = "gateway.ops.workers:app"
# A young collection when tracked objects outnumber those freed by 50,000 instead of 700. Requests leave
# no reference cycles (tests/test_reference_cycles.py), so their objects are freed as they end and the
# count rarely gets there; each collection would scan the objects of every request in flight. At 50
# deal pages in flight: GC 0.3 ms of CPU per page with 10,000, none with 50,000 (docs/performance.md).
GC_THRESHOLDS = (50_000, 20, 20)


def serve(settings: Settings, *, host: str, port: int, workers: int) -> None:
    """Run `workers` worker processes until SIGTERM or SIGINT."""
    import uvicorn

    from gateway.core.logging import configure_logging

    configure_logging(settings.log_level)
    log.info("GraphiQL: http://%s:%d/graphql (%d workers)", host, port, workers)
    if not settings.events_url:
        log.warning("%d workers without DEAL_DESK_EVENTS_URL: subscribers only hear about changes "
                    "made through their own worker", workers)
    if settings.migrate_on_start:
        migrate_once(settings)
    os.environ["DEAL_DESK_MIGRATE_ON_START"] = "false"  # the workers' settings
    created = multiprocess_metrics.prepare()
    serve_metrics(settings, host)  # after prepare(): the supervisor sums the workers' metric files
    try:
        uvicorn.run(FACTORY, factory=True, host=host, port=port, workers=workers,
                    log_level=settings.log_level.lower(), log_config=None, access_log=False,
                    timeout_graceful_shutdown=30, **connections.uvicorn_options(settings))
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

    settings = Settings()
    connections.configure(settings)  # this process's protocol bounds (uvicorn_options set the parent's)
    application = create_app(settings)
    atexit.register(multiprocess_metrics.mark_dead, os.getpid())
    settle_heap()
    return application


def settle_heap() -> None:
    """Keep the startup heap (it lives as long as the process) out of later GC passes; fewer young passes."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
