"""Row images as the audit log spells them (JSON), read back as the columns mean them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Column, Date, Table

from gateway.core.columns import ExactDecimal, UtcDateTime


def comparable(column: Column[Any], value: Any) -> Any:
    """A JSON value as its column means it: exact decimals and instants compare by value, not spelling."""
    try:
        if value is not None and isinstance(column.type, ExactDecimal):
            return Decimal(str(value))
        if value is not None and isinstance(column.type, UtcDateTime):
            return dt.datetime.fromisoformat(value)
    except (InvalidOperation, ValueError, TypeError):
        return ("unreadable", value)
    return value


def decoded(table: Table, image: Mapping[str, Any]) -> dict[str, Any]:
    """Column values of `table` from their JSON spelling in an audit image."""
    return {name: python_value(table.c[name], value) for name, value in image.items() if name in table.c}


def python_value(column: Column[Any], value: Any) -> Any:
    """One JSON value as its column's Python type."""
    if value is None:
        return None
    if isinstance(column.type, ExactDecimal):
        return Decimal(str(value))
    if isinstance(column.type, UtcDateTime):
        return dt.datetime.fromisoformat(value)
    if isinstance(column.type, Date):
        return dt.date.fromisoformat(value)
    return value
