"""Reference rows by id through the app's short-lived cache, for callers whose row rule is TRUE."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from sqlalchemy import ColumnElement
from sqlalchemy.sql.elements import True_

from gateway.store.reference_cache import ReferenceCache

V = TypeVar("V")
Fetch = Callable[[Sequence[str]], Awaitable[dict[str, V]]]


def sees_every_row(rule: ColumnElement[bool]) -> bool:
    """True when a row rule, built for one caller, is the constant TRUE: nothing to filter per row."""
    return isinstance(rule, True_)


async def through_cache(cache: ReferenceCache | None, table: str, keys: Sequence[str],
                        fetch: Fetch[V]) -> list[V | None]:
    """Values for `keys` in order: cached ones as they are, the others fetched (and cached when found)."""
    if cache is None:
        fetched = await fetch(keys)
        return [fetched.get(key) for key in keys]
    found = {key: value for key in keys if (value := cache.get(table, key)) is not None}
    missing = [key for key in keys if key not in found]
    if missing:
        generation = cache.generation
        fetched = await fetch(missing)
        for key, value in fetched.items():
            cache.put(table, key, value, generation)
        found.update(fetched)
    return [found.get(key) for key in keys]
