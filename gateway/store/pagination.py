"""Relay cursor pagination by keyset: opaque cursors carrying the sort-key values of a row."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_

from gateway.core.errors import BadUserInput
from gateway.core.settings import Settings


@dataclass(frozen=True)
class Codec:
    """How a sort-key value is written into a cursor and read back."""

    encode: Callable[[Any], Any]
    decode: Callable[[Any], Any]


MAX_DIGITS = 18  # digits before the point of the widest stored NUMERIC


def _instant(text: str) -> dt.datetime:
    """An aware datetime; a naive one could not be compared with stored UTC instants."""
    moment = dt.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError("cursor timestamp has no UTC offset")
    return moment


def _number(text: str) -> Decimal:
    """A finite decimal that fits a stored NUMERIC."""
    number = Decimal(text)
    if not number.is_finite() or number.adjusted() >= MAX_DIGITS:
        raise ValueError("cursor number out of range")
    return number


TEXT = Codec(str, str)
TIMESTAMP = Codec(dt.datetime.isoformat, _instant)
DATE = Codec(dt.date.isoformat, dt.date.fromisoformat)
DECIMAL = Codec(str, _number)


@dataclass(frozen=True)
class SortKey:
    """One column of a keyset ordering, with its direction and cursor codec."""

    column: ColumnElement[Any]
    descending: bool
    codec: Codec = TEXT

    def order_by(self) -> ColumnElement[Any]:
        """The ORDER BY term."""
        return self.column.desc() if self.descending else self.column.asc()


@dataclass(frozen=True)
class Page:
    """A validated page request: how many rows, after which cursor values."""

    first: int
    after: tuple[Any, ...] | None


def page(first: int | None, after: str | None, *, keys: Sequence[SortKey], tag: str,
         default: int, maximum: int) -> Page:
    """Validate `first`/`after` against the cap and the ordering `tag` the cursor was made for."""
    if first is None:
        first = default
    if first < 0 or first > maximum:
        raise BadUserInput(f"first must be between 0 and {maximum}", field="first")
    return Page(first=first, after=None if after is None else decode(after, keys, tag))


def encode(values: Sequence[Any], keys: Sequence[SortKey], tag: str) -> str:
    """An opaque cursor for a row's sort-key values."""
    payload = [tag, *(key.codec.encode(value) for key, value in zip(keys, values, strict=True))]
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str, keys: Sequence[SortKey], tag: str) -> tuple[Any, ...]:
    """The sort-key values of `cursor`; BAD_USER_INPUT when it is malformed or from another ordering."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = json.loads(raw)
        if not isinstance(payload, list) or payload[0] != tag or len(payload) != len(keys) + 1:
            raise ValueError("cursor of another list or ordering")
        return tuple(key.codec.decode(value) for key, value in zip(keys, payload[1:], strict=True))
    except (ValueError, TypeError, IndexError, binascii.Error, ArithmeticError, RecursionError) as error:
        raise BadUserInput("after is not a valid cursor for this list", field="after") from error


def after_condition(keys: Sequence[SortKey], values: Sequence[Any]) -> ColumnElement[bool]:
    """Rows strictly after `values` in the keyset order (mixed directions allowed)."""
    branches = []
    for index, key in enumerate(keys):
        equal = [k.column == v for k, v in zip(keys[:index], values[:index], strict=True)]
        step = key.column < values[index] if key.descending else key.column > values[index]
        branches.append(and_(*equal, step))
    return or_(false(), *branches)


def page_of(settings: Settings, first: int | None, after: str | None, keys: Sequence[SortKey],
            tag: str) -> Page:
    """A validated page request under the configured size cap."""
    return page(first, after, keys=keys, tag=tag, default=settings.page_size_default,
                maximum=settings.page_size_max)
