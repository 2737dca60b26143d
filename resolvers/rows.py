"""Reading a store row, plain or with a relation's columns labelled `<prefix>__<column>`."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from sqlalchemy import Row

RowLike = Mapping[Any, Any]


def columns(row: Row[Any], prefix: str = "") -> RowLike:
    """The row's columns; with a prefix, only that relation's, under their plain names."""
    if not prefix:
        return row._mapping
    return {name: row[index] for index, name in _slots(row._fields, prefix)}


@lru_cache(maxsize=128)
def _slots(fields: tuple[str, ...], prefix: str) -> tuple[tuple[int, str], ...]:
    # Rows of one statement share their field tuple: find the relation's columns once per shape.
    start = f"{prefix}__"
    return tuple((index, key[len(start):]) for index, key in enumerate(fields) if key.startswith(start))
