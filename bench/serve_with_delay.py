"""`deal-desk serve` with a simulated warehouse round trip: sleeps before every SQL statement.

The delay (milliseconds) comes from DEAL_DESK_BENCH_STATEMENT_DELAY_MS, read only here; the listener is
installed on the Engine class, so it covers every engine the gateway creates. It is installed on import:
`serve --workers N` spawns its workers with multiprocessing, which imports this main module in each of
them again. Usage:
    python -m bench.serve_with_delay serve --port 8000 [--workers 2]
"""

from __future__ import annotations

import os
import time
from typing import Any

from sqlalchemy import Engine, event

from gateway.ops.cli import main
from gateway.store import database

DELAY_ENV = "DEAL_DESK_BENCH_STATEMENT_DELAY_MS"


def install(delay_s: float) -> None:
    """Sleep `delay_s` in the calling (worker) thread before each statement of every engine."""

    def before_cursor_execute(*_args: Any) -> None:
        time.sleep(delay_s)

    event.listen(Engine, "before_cursor_execute", before_cursor_execute)
    # A remote store's lookups go to worker threads too: none may sleep on the event loop.
    database.IN_PLACE_DIALECTS = frozenset()


if __name__ in ("__main__", "__mp_main__") and os.environ.get(DELAY_ENV):
    install(float(os.environ[DELAY_ENV]) / 1000)

if __name__ == "__main__":
    main()
