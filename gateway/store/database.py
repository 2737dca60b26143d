"""Async access to a synchronous engine: statements run in worker threads (SQLite's key lookups in place)."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

import anyio.to_thread
import structlog
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from gateway.core.errors import ServiceUnavailable
from gateway.store import claims, retry, timeouts
from gateway.store import engine as engines
from gateway.store import journal as journals
from gateway.store import unit as units

if TYPE_CHECKING:
    from gateway.core.settings import Settings

log = structlog.get_logger("deal_desk.store")

JOURNALED_DIALECTS = frozenset({"databricks"})  # no multi-statement transactions
# A lookup by keys on a local SQLite file takes a fraction of a millisecond; handing it to a worker thread
# cost about 1.4 ms of CPU (the hop, and the GIL passed back and forth for every fetched row): measured
# 19.8 -> 10.2 ms of CPU per deal page with lookups run in place (docs/performance.md).
IN_PLACE_DIALECTS = frozenset({"sqlite"})
# SQLite has one writer. A unit holds the write lock across awaits and needs worker threads meanwhile, so
# writers of one process queue on the event loop, not in threads blocked on the lock (which could take every
# thread from the unit that holds it); other processes' writers wait on SQLite's busy timeout.
SINGLE_WRITER_DIALECTS = frozenset({"sqlite"})
AUTOCOMMIT_READ_DIALECTS = frozenset({"postgresql"})
# No statement or lock timeout a request could use: its statements are cancelled instead (store/timeouts.py).
# The engine's other users (seed, migrate, backup) keep the warehouse's own, longer statement timeout.
CANCELLING_DIALECTS = frozenset({"databricks"})

P = ParamSpec("P")
T = TypeVar("T")


@contextlib.contextmanager
def unavailable_on_connection_errors() -> Iterator[None]:
    """Store outages (lost connections, a locked or unreachable store) become SERVICE_UNAVAILABLE."""
    try:
        yield
    except (OperationalError, InterfaceError) as error:
        log.warning("store unavailable", error_type=type(error.orig or error).__name__)
        raise ServiceUnavailable() from error
    except sqlite3.OperationalError as error:  # BEGIN IMMEDIATE goes to the driver itself (store/engine.py)
        log.warning("store unavailable", error_type=type(error).__name__)
        raise ServiceUnavailable() from error
    except timeouts.StatementCancelled as error:  # logged where it was cancelled
        raise ServiceUnavailable() from error
    except DBAPIError as error:
        if not error.connection_invalidated:
            retry.raise_as_gateway_error(error)  # Databricks: CONFLICT or SERVICE_UNAVAILABLE
            raise
        log.warning("store connection lost")
        raise ServiceUnavailable() from error
    except retry.network_errors() as error:  # the Databricks connector lets some through unwrapped
        log.warning("store unreachable", error_type=type(error).__name__)
        raise ServiceUnavailable() from error


class Database:
    """One store: runs data-access functions off the event loop, each on a pooled connection."""

    def __init__(self, url: str, settings: Settings | None = None) -> None:
        self.url = url
        self.engine: Engine = engines.create(url, settings)
        mode = settings.write_mode if settings is not None else "auto"
        self.journaled = mode == "journal" or (mode == "auto" and self.dialect in JOURNALED_DIALECTS)
        self.read_retry = retry.backoff_from(settings) if self.dialect == "databricks" else None
        self.lookups_in_place = self.dialect in IN_PLACE_DIALECTS
        self._writer = asyncio.Lock() if self.dialect in SINGLE_WRITER_DIALECTS else None
        timeout_s = settings.statement_timeout_s if settings is not None else engines.DEFAULT_TIMEOUT_S
        self._writes = (self.engine.execution_options(**{timeouts.CANCEL_AFTER: timeout_s})
                        if self.dialect in CANCELLING_DIALECTS else self.engine)
        # A read sends its statement alone, not between a BEGIN and a ROLLBACK: two round trips fewer.
        # Each statement of READ COMMITTED saw its own snapshot anyway.
        self._reads = (self._writes.execution_options(isolation_level="AUTOCOMMIT")
                       if self.dialect in AUTOCOMMIT_READ_DIALECTS else self._writes)

    @property
    def dialect(self) -> str:
        """The store's SQLAlchemy dialect name."""
        return self.engine.dialect.name

    async def read(
        self, fn: Callable[Concatenate[Connection, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run `fn(connection, ...)` in a worker thread, no transaction; retried once on a lost connection."""
        if (unit := units.active(self.engine)) is not None:
            return await self._in_unit(unit, fn, args, kwargs, write=False)
        return await anyio.to_thread.run_sync(partial(self._read, fn, *args, **kwargs))

    async def lookup(
        self, fn: Callable[Concatenate[Connection, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """A read bounded by the keys it is given (a loader's batch): in place on SQLite, else as `read`."""
        if self.lookups_in_place and units.active(self.engine) is None:
            return self._read(fn, *args, **kwargs)
        return await self.read(fn, *args, **kwargs)

    async def write(
        self, fn: Callable[Concatenate[Connection, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run `fn(connection, ...)` in a worker thread inside one transaction (a savepoint of the request's
        unit, when one is open)."""
        if (unit := units.active(self.engine)) is not None:
            return await self._in_unit(unit, fn, args, kwargs, write=True)
        async with self._writing():
            return await anyio.to_thread.run_sync(partial(self._write, fn, *args, **kwargs))

    @contextlib.asynccontextmanager
    async def unit(self) -> AsyncIterator[units.Unit | None]:
        """One transaction for the calls made inside the block (gateway/store/unit.py), rolled back unless
        committed; None where the store has no multi-statement transactions (the journal orders writes)."""
        if self.journaled:
            yield None
            return
        async with self._writing():
            connection = await anyio.to_thread.run_sync(self._begin_unit)
            unit = units.Unit(self.engine, connection)
            token = units.current.set(unit)
            try:
                yield unit
            finally:
                units.current.reset(token)
                await anyio.to_thread.run_sync(unit.close)

    def _writing(self) -> contextlib.AbstractAsyncContextManager[Any]:
        """Held while this process writes, where the store has a single writer."""
        return self._writer if self._writer is not None else contextlib.nullcontext()

    async def when_committed(self, fn: Callable[P, Awaitable[None]], *args: P.args,
                             **kwargs: P.kwargs) -> None:
        """Await `fn(...)` now, or once the open unit commits (not at all if it rolls back)."""
        if (unit := units.active(self.engine)) is not None:
            unit.after_commit(partial(fn, *args, **kwargs))
        else:
            await fn(*args, **kwargs)

    def _begin_unit(self) -> Connection:
        with unavailable_on_connection_errors():
            connection = self.engine.connect().execution_options(**{engines.WRITE_OPTION: True})
            try:
                connection.begin()
            except BaseException:
                connection.close()
                raise
            return connection

    async def _in_unit(self, unit: units.Unit, fn: Callable[..., T], args: tuple[Any, ...],
                       kwargs: dict[str, Any], *, write: bool) -> T:
        with unavailable_on_connection_errors():
            return await unit.run(fn, *args, write=write, **kwargs)

    def _read(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        # A read has answered nothing until `fn` returns, so a connection lost under it (a server
        # restart, a killed backend) is retried once on a new one; a write never is.
        with unavailable_on_connection_errors():
            try:
                return self._read_once(fn, *args, **kwargs)
            except DBAPIError as error:
                if not error.connection_invalidated:
                    raise
                log.warning("store connection lost during a read; retrying once")
            return self._read_once(fn, *args, **kwargs)

    def _read_once(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        if self.read_retry is not None:  # transient warehouse errors (gateway/store/retry.py)
            return retry.run_read(partial(self._connected, fn, *args, **kwargs), self.read_retry)
        return self._connected(fn, *args, **kwargs)

    def _connected(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        with self._reads.connect() as connection:
            return fn(connection, *args, **kwargs)

    def _write(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        with unavailable_on_connection_errors():
            if self.journaled:
                return self._write_journaled(fn, *args, **kwargs)
            connection = self._writes.connect().execution_options(**{engines.WRITE_OPTION: True})
            with connection, connection.begin():
                return fn(connection, *args, **kwargs)

    def _write_journaled(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        # Each statement commits on its own; the journal orders them (gateway/store/journal.py).
        claim = claims.current.get()
        step = claim.step(fn) if claim is not None else ""
        if claim is not None and step in claim.replays:  # committed by this request's run before a crash
            result: T = claims.decode(claim.replays[step])
            return result
        with self._writes.connect() as connection:
            journal = journals.begin(connection)
            result = fn(connection, *args, **kwargs)
            if claim is not None:
                journal.claimed = claims.columns(claim, step, result)
            journals.flush(connection, journal)
            return result

    async def ping(self) -> bool:
        """True when the store answers a trivial query."""
        # Once, not retried: a probe must answer quickly, and say "not ready" while the store is down.
        select_one = partial(self._connected, lambda connection: connection.execute(text("SELECT 1")))
        try:
            await anyio.to_thread.run_sync(select_one)
        except Exception:
            return False
        return True

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
