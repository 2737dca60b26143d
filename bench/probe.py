"""In-process measurements on the real app over ASGI: captured SQL, its floor, round trips, the export split.

A listener on the Engine class (`TAP`) records every statement the bench process sends and can sleep
before each one, like bench.serve_with_delay does in the served gateway.
"""

from __future__ import annotations

import gc
import itertools
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, event

from bench.operations import Operation, Variables
from gateway.app import create_app
from gateway.core.settings import Settings
from gateway.graphql_app import GraphQLApp
from gateway.ops.workers import settle_heap
from gateway.store import engine as engines
from gateway.store.migrate import migrate

# httpcore tries `import sniffio` for every lock it makes. Without sniffio installed, each attempt searches
# sys.path again: about 2 ms of this process's CPU per request. A None entry fails the import at once.
sys.modules.setdefault("sniffio", None)  # type: ignore[arg-type]

ROUND_TRIP_DELAY_S = 0.1
TIMED_RUNS = 3


@dataclass(frozen=True)
class Sent:
    """One statement as the driver received it, when, and whether it ran in a write transaction."""

    statement: str
    parameters: Any
    at: float
    write: bool


@dataclass
class Tap:
    """Records statements while `sent` is a list; sleeps `delay_s` before each statement."""

    delay_s: float = 0.0
    sent: list[Sent] | None = None

    def __call__(self, conn: Any, _cursor: Any, statement: str, parameters: Any, *_rest: Any) -> None:
        if self.sent is not None:
            write = bool(conn.get_execution_options().get(engines.WRITE_OPTION))
            self.sent.append(Sent(statement, parameters, time.perf_counter(), write))
        if self.delay_s:
            time.sleep(self.delay_s)


TAP = Tap()
event.listen(Engine, "before_cursor_execute", TAP)


class GraphQLError(RuntimeError):
    """A request answered with errors or a non-200 status."""


class InProcess:
    """The gateway app in this process, on the bench's store, driven through httpx's ASGI transport."""

    def __init__(self, db: Path, key_file: Path, tokens: dict[str, str]) -> None:
        settings = Settings(database_url=f"sqlite:///{db}", dev_key_file=str(key_file),
                            migrate_on_start=False, rate_limit_per_s=0)
        self.app, self.tokens = create_app(settings), tokens
        migrate(self.app.state.db.engine)  # what `deal-desk serve` does on start
        views = (getattr(route, "app", None) for route in self.app.router.routes)
        self.schema = next(view.schema for view in views if isinstance(view, GraphQLApp))
        settle_heap()  # and what it does next
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://bench",
                                        timeout=300)

    async def post(self, document: str, variables: Variables, user: str) -> dict[str, Any]:
        """`data` of one request that must succeed."""
        response = await self.client.post("/graphql", json={"query": document, "variables": variables},
                                          headers={"authorization": f"Bearer {self.tokens[user]}"})
        body = response.json()
        if response.status_code != 200 or body.get("errors"):
            raise GraphQLError(f"{response.status_code}: {str(body)[:500]}")
        return dict(body["data"])

    async def post_raw(self, op: Operation, variables: Variables) -> bytes:
        """The raw response body of one request of `op`."""
        response = await self.client.post("/graphql", json={"query": op.document, "variables": variables},
                                          headers={"authorization": f"Bearer {self.tokens[op.user]}"})
        return response.content

    async def timed(self, op: Operation, variables: Variables) -> float:
        """Seconds one request of `op` takes."""
        start = time.perf_counter()
        await self.post(op.document, variables, op.user)
        return time.perf_counter() - start

    async def aclose(self) -> None:
        """Close the client and the app's pool."""
        await self.client.aclose()
        self.app.state.db.dispose()


async def capture(run: Callable[[], Awaitable[Any]]) -> list[Sent]:
    """The statements `run` sends."""
    TAP.sent = []
    try:
        await run()
        return TAP.sent
    finally:
        TAP.sent = None


def waves(sent: list[Sent], delay_s: float) -> int:
    """Sequential round trips: most statements whose delayed intervals [at, at + delay) do not overlap."""
    count, busy_until = 0, float("-inf")
    for one in sorted(sent, key=lambda s: s.at):
        if one.at >= busy_until:
            count, busy_until = count + 1, one.at + delay_s
    return count


def replay(engine: Engine, sent: list[Sent]) -> float:
    """Seconds to run the statements again, in order, straight through SQLAlchemy (rows fetched).

    Consecutive statements of a write transaction run in one committed transaction, the others on
    a plain connection, as the gateway ran them (but one after another: no overlap between them).
    """
    start = time.perf_counter()
    for write, group in itertools.groupby(sent, key=lambda s: s.write):
        with engine.connect() as connection:
            if write:
                connection = connection.execution_options(**{engines.WRITE_OPTION: True})
            with connection.begin():
                for one in group:
                    result = connection.exec_driver_sql(one.statement, one.parameters or None)
                    if result.returns_rows:
                        result.fetchall()
    return time.perf_counter() - start


@dataclass
class Probe:
    """What the in-process run found for one operation."""

    statements: int
    round_trips: int
    round_trips_by_time: float
    in_process_ms: float
    floor_ms: float
    sent: list[Sent] = field(repr=False)


async def probe(app: InProcess, op: Operation, next_variables: Callable[[], Variables],
                floor_engine: Engine) -> Probe:
    """Capture one request's SQL, count its round trips (delayed statements) and time its SQL floor."""
    for _ in range(2):  # warm the parser and validation caches and the users row
        await app.timed(op, next_variables())
    sent = await capture(lambda: app.timed(op, next_variables()))
    normal = statistics.median([await app.timed(op, next_variables()) for _ in range(TIMED_RUNS)])
    db = app.app.state.db
    in_place, db.lookups_in_place = db.lookups_in_place, False  # round trips as on a remote store
    TAP.delay_s = ROUND_TRIP_DELAY_S
    try:
        delayed_sent = await capture(lambda: app.timed(op, next_variables()))
        delayed = statistics.median([await app.timed(op, next_variables()) for _ in range(TIMED_RUNS)])
    finally:
        TAP.delay_s, db.lookups_in_place = 0.0, in_place
    runs = 1 if op.writes else TIMED_RUNS  # a replayed write commits: it can run once
    floor = statistics.median([replay(floor_engine, sent) for _ in range(runs)])
    return Probe(len(sent), waves(delayed_sent, ROUND_TRIP_DELAY_S),
                 round((delayed - normal) / ROUND_TRIP_DELAY_S, 1), normal * 1000, floor * 1000, sent)


@dataclass
class Split:
    """Where the time of one request goes, in milliseconds (docs/performance.md, "Time split")."""

    total_ms: float  # wall time of the request
    sql_ms: float  # store functions in worker threads: statements, row fetch, Row objects (summed)
    sql_cpu_ms: float  # CPU time of those worker threads
    read_wait_ms: float  # db.read calls waiting for their worker thread (loop busy, pool), summed
    execute_ms: float  # wall time of schema.execute
    loop_cpu_ms: float  # CPU time of the event-loop thread: GraphQL, HTTP, auth, JSON
    encode_ms: float  # GraphQLApp.encode_json of the result (orjson)
    gc_ms: float  # garbage collection, in whichever thread it ran (included in that thread's time)
    response_bytes: int

    @property
    def graphql_cpu_ms(self) -> float:
        """Event-loop CPU without JSON encoding: parsing, validation, resolvers, loaders, serialization."""
        return self.loop_cpu_ms - self.encode_ms


class Instrumented:
    """Times db.read (and its function in the worker thread), schema.execute and encode_json while active."""

    def __init__(self, app: InProcess) -> None:
        self.db, self.schema = app.app.state.db, app.schema
        self.sql: list[tuple[float, float, float]] = []  # (wait, duration, thread CPU) per db.read/lookup
        self.executes: list[float] = []
        self.encodes: list[float] = []
        self.collections: list[float] = []
        self.encode = GraphQLApp.encode_json

    def __enter__(self) -> Instrumented:
        self.db.read = self._read(self.db.read)
        self.db.lookup = self._read(self.db.lookup)  # in place on SQLite: its SQL is event-loop CPU too
        self.schema.execute = self._execute(self.schema.execute)  # type: ignore[method-assign,assignment]
        GraphQLApp.encode_json = lambda view, data: self._encode(view, data)  # type: ignore[method-assign,assignment]
        gc.callbacks.append(self._collecting)
        return self

    def __exit__(self, *_exc: Any) -> None:
        del self.db.read, self.db.lookup, self.schema.execute  # the instance attributes: back to the methods
        GraphQLApp.encode_json = self.encode  # type: ignore[method-assign]
        gc.callbacks.remove(self._collecting)

    def _collecting(self, phase: str, _info: dict[str, int]) -> None:
        now = time.perf_counter()
        if phase == "start":
            self.collections.append(now)
        elif self.collections:
            self.collections[-1] = now - self.collections[-1]

    def _read(self, read: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def timed_read(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
            called = time.perf_counter()

            def in_thread(connection: Any, *a: Any, **kw: Any) -> Any:
                start, cpu = time.perf_counter(), time.thread_time()
                try:
                    return fn(connection, *a, **kw)
                finally:
                    self.sql.append((start - called, time.perf_counter() - start, time.thread_time() - cpu))
            return await read(in_thread, *args, **kwargs)
        return timed_read

    def _execute(self, execute: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def timed_execute(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return await execute(*args, **kwargs)
            finally:
                self.executes.append(time.perf_counter() - start)
        return timed_execute

    def _encode(self, view: Any, data: object) -> str | bytes:
        start = time.perf_counter()
        try:
            return self.encode(view, data)
        finally:
            self.encodes.append(time.perf_counter() - start)

    def split(self, total_s: float, loop_cpu_s: float, size: int) -> Split:
        """The split of the request just made."""
        waits, durations, cpus = zip(*self.sql, strict=True) if self.sql else ((), (), ())
        return Split(total_s * 1000, sum(durations) * 1000, sum(cpus) * 1000, sum(waits) * 1000,
                     sum(self.executes) * 1000, loop_cpu_s * 1000, sum(self.encodes) * 1000,
                     sum(self.collections) * 1000, size)


async def split(app: InProcess, op: Operation, variables: Variables, runs: int = 5) -> Split:
    """The split of the median (by total time) of `runs` requests of `op`, after one warm-up."""
    await app.timed(op, variables)
    splits = []
    for _ in range(runs):
        with Instrumented(app) as seen:
            start, cpu = time.perf_counter(), time.thread_time()
            size = len(await app.post_raw(op, variables))
            splits.append(seen.split(time.perf_counter() - start, time.thread_time() - cpu, size))
    return sorted(splits, key=lambda one: one.total_ms)[runs // 2]
