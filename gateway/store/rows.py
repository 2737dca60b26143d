"""Reading a relation's columns, labelled `<prefix>__<column>`, from the rows of one statement."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Row

RowLike = Mapping[Any, Any]


class Relation:
    """One relation's columns in the rows of one statement: their positions are found once."""

    def __init__(self, rows: Sequence[Row[Any]], prefix: str) -> None:
        # Row._fields builds a new tuple on every call: once per statement, not once per row.
        self.slots = _slots(rows[0]._fields, prefix) if rows else ()

    def __call__(self, row: Row[Any]) -> RowLike:
        """The relation's columns of `row`, under their plain names."""
        return {name: row[index] for index, name in self.slots}


@lru_cache(maxsize=128)
def _slots(fields: tuple[str, ...], prefix: str) -> tuple[tuple[int, str], ...]:
    start = f"{prefix}__"
    return tuple((index, key[len(start):]) for index, key in enumerate(fields) if key.startswith(start))
