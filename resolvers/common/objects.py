"""The GraphQL objects of one request, built from the loaders' rows: one per (type, id) and row."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Hashable
from functools import cache
from typing import Any, Protocol, Self, TypeVar

from aiodataloader import DataLoader

from gateway.store.rows import RowLike
from loaders.base import must_load


class FromRow(Protocol):
    @classmethod
    def from_row(cls, row: RowLike) -> Self: ...


T = TypeVar("T", bound=FromRow)
K = TypeVar("K", bound=Hashable)


class Objects:
    """Objects by (type, id): the same row gives the same object, a fresh row (after a write) a new one."""

    def __init__(self) -> None:
        self._built: dict[tuple[type, Any], tuple[RowLike, Any]] = {}

    def of(self, cls: type[T], row: RowLike) -> T:
        """The `cls` object of `row`."""
        key = (cls, row["id"])
        entry = self._built.get(key)
        if entry is None or entry[0] is not row:
            entry = self._built[key] = (row, cls.from_row(row))
        built: T = entry[1]
        return built

    def must(self, cls: type[T], row: RowLike | None) -> T:
        """The `cls` object of `row`, which a foreign key guarantees (a join that found nothing is a bug)."""
        if row is None:
            raise LookupError(f"no {cls.__name__} row where the schema guarantees one")
        return self.of(cls, row)

    def maybe(self, cls: type[T], row: RowLike | None) -> T | None:
        """The `cls` object of `row`, or None without a row."""
        return None if row is None else self.of(cls, row)

    async def load(self, cls: type[T], loader: DataLoader[K, RowLike | None], key: K) -> T | None:
        """The `cls` object of the row `loader` finds for `key`, if any."""
        return self.maybe(cls, await loader.load(key))

    async def must_load(self, cls: type[T], loader: DataLoader[K, RowLike | None], key: K) -> T:
        """The `cls` object of the row `loader` finds for `key`, which the schema guarantees exists."""
        return self.of(cls, await must_load(loader, key))


def lazy_class(module: str, name: str) -> Callable[[], Any]:
    """A type of another domain module, imported on first use: the domains refer to each other, as the
    schema's `strawberry.lazy` references do."""

    @cache
    def resolve() -> Any:
        return getattr(importlib.import_module(module), name)

    return resolve
