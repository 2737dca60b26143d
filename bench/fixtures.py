"""The bench's store: a copy of the seeded one, real ids read from it, and inputs for the write operations."""

from __future__ import annotations

import itertools
import random
import sqlite3
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, func, select

from bench.operations import Ids
from gateway.core import tables as t


def copy_store(source: Path, target: Path, *, check: bool = True) -> None:
    """A consistent copy of a SQLite store (online backup: safe while others use it, WAL included)."""
    if not source.is_file():
        raise SystemExit(f"no SQLite store at {source}; seed one: deal-desk seed --scale 84")
    with closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as src, \
            closing(sqlite3.connect(target)) as dst:
        if check and src.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise SystemExit(f"{source} fails PRAGMA quick_check; re-seed it into a new file")
        src.backup(dst)


def read_only(db: Path) -> Engine:
    """A plain read-only engine on a SQLite file (for picking ids)."""
    return create_engine(f"sqlite:///file:{db}?mode=ro&uri=true")


def pick_ids(engine: Engine, *, sample: int = 1000) -> Ids:
    """The deal with the most approval actions (a long history, with an agency), its parties and a sample.

    The sample is `sample` deals with an agency, drawn with a fixed seed so that runs compare.
    """
    a, d = t.approval_actions, t.deals
    busiest = (select(a.c.deal_id).join(d, d.c.id == a.c.deal_id).where(d.c.agency_id.is_not(None))
               .group_by(a.c.deal_id).order_by(func.count().desc(), a.c.deal_id).limit(1))
    with engine.connect() as connection:
        deal = connection.execute(select(d).where(d.c.id == busiest.scalar_subquery())).one()
        with_agency = connection.execute(select(d.c.id).where(d.c.agency_id.is_not(None))
                                         .order_by(d.c.id)).scalars().all()
    drawn = random.Random(84).sample(with_agency, min(sample, len(with_agency)))
    return Ids(deal=deal.id, advertiser=deal.advertiser_id, agency=deal.agency_id, sample=tuple(drawn))


class Feed:
    """What each request of one operation consumes: nothing, a counter, or prepared inputs."""

    def __init__(self, make: Callable[[int], Awaitable[Any]] | None = None,
                 endless: Iterator[Any] | None = None) -> None:
        self.items: deque[Any] = deque()
        self.make, self.endless = make, endless
        self.made = itertools.count()

    def take(self) -> Any:
        """The next input (IndexError when the prepared ones ran out: call `ensure` first)."""
        return next(self.endless) if self.endless is not None else self.items.popleft()

    async def ensure(self, count: int) -> None:
        """Prepare inputs until at least `count` are left."""
        if self.make is None:
            return
        while len(self.items) < count:
            self.items.append(await self.make(next(self.made)))
