"""The base of every loader: one instance per request, rows returned in key order."""

from __future__ import annotations

import weakref
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import Any, Generic, Protocol, TypeVar, cast

from aiodataloader import DataLoader
from sqlalchemy import Row

from auth.principal import Principal
from gateway.store.database import Database
from gateway.store.reference_cache import ReferenceCache
from gateway.store.rows import RowLike
from loaders.records import ApprovalRecord, Joined

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

# Databricks allows 255 parameters per statement (keys plus a few filter and cursor values).
MAX_BATCH = {"databricks": 240}
DEFAULT_MAX_BATCH = 5000


class Registry(Protocol):
    """What a loader uses of its request's registry (`loaders.registry.Loaders`)."""

    db: Database
    principal: Principal

    @property
    def reference_cache(self) -> ReferenceCache | None: ...

    def prime_deals(self, rows: Sequence[Row[Any]]) -> list[RowLike]: ...

    def prime_approvals(self, rows: Sequence[Row[Any]],
                        actions: Mapping[str, list[Joined]] | None = None) -> list[ApprovalRecord]: ...

    def prime_joined(self, rows: Sequence[Row[Any]]) -> list[Joined]: ...


class Loader(DataLoader[K, V], Generic[K, V]):
    """A DataLoader bound to one request's store, caller and sibling loaders."""

    def __init__(self, loaders: Registry) -> None:
        # The registry holds its loaders; a strong reference back would make each request's loaders, and
        # every row they cached, a reference cycle: freed by the collector's slow passes, not at once.
        self.loaders = cast(Registry, weakref.proxy(loaders))
        super().__init__(max_batch_size=MAX_BATCH.get(loaders.db.dialect, DEFAULT_MAX_BATCH))

    @property
    def db(self) -> Database:
        """The request's store."""
        return self.loaders.db


def grouped(items: Iterable[V], key: Callable[[V], Any]) -> defaultdict[Any, list[V]]:
    """Items grouped by `key`, each group in input order."""
    groups: defaultdict[Any, list[V]] = defaultdict(list)
    for item in items:
        groups[key(item)].append(item)
    return groups


async def must_load(loader: DataLoader[K, V | None], key: K) -> V:
    """The value for `key`, which the schema guarantees exists (a foreign key)."""
    value = await loader.load(key)
    if value is None:
        raise LookupError(f"{type(loader).__name__} found nothing for a required key")
    return value
