"""Reading a store row, plain or with a relation's columns labelled `<prefix>__<column>`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Row

RowLike = Mapping[Any, Any]


def columns(row: Row[Any], prefix: str = "") -> RowLike:
    """The row's columns; with a prefix, only that relation's, under their plain names."""
    mapping = row._mapping
    if not prefix:
        return mapping
    start = f"{prefix}__"
    return {key[len(start):]: value for key, value in mapping.items() if key.startswith(start)}
