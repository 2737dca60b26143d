"""The store's worker threads: few for SQLite, anyio's 40 for remote stores, or as configured."""

from __future__ import annotations

import anyio.to_thread

from gateway.app import create_app
from gateway.core.settings import Settings
from gateway.store import threads as store_threads


def plain(**values: object) -> Settings:
    """Settings that read nothing from the environment."""
    return Settings(**values, _env_file=None)  # type: ignore[arg-type]


def test_sqlite_gets_few_threads_and_remote_stores_many() -> None:
    assert store_threads.count(plain(), "sqlite") == store_threads.LOCAL < store_threads.REMOTE
    assert store_threads.count(plain(), "postgresql") == store_threads.NEARBY == 16
    assert store_threads.count(plain(), "databricks") == store_threads.REMOTE == 40


def test_the_setting_wins() -> None:
    assert store_threads.count(plain(store_threads=3), "sqlite") == 3


async def test_serving_sizes_the_event_loops_thread_limiter(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"store_threads": 5}))

    async with app.router.lifespan_context(app):
        assert anyio.to_thread.current_default_thread_limiter().total_tokens == 5
