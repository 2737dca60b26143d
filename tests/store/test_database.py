"""Where the store's calls run: lookups in place on SQLite, everything else in worker threads."""

from __future__ import annotations

import threading

from sqlalchemy import Connection, text

from gateway.store.database import Database


def thread_and_answer(connection: Connection) -> tuple[int, int]:
    """The thread running the call, and the store's answer to SELECT 1."""
    return threading.get_ident(), connection.execute(text("SELECT 1")).scalar_one()


async def test_lookups_run_in_place_on_sqlite_and_in_a_worker_thread_elsewhere(db: Database) -> None:
    here = threading.get_ident()

    looked_up = await db.lookup(thread_and_answer)
    read = await db.read(thread_and_answer)

    assert looked_up[1] == read[1] == 1
    assert (looked_up[0] == here) == (db.dialect == "sqlite")
    assert read[0] != here  # a read of any size never blocks the event loop
