"""Column types that keep their meaning on every store: exact decimals, UTC timestamps."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, Numeric
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

UTC = dt.UTC


class ExactDecimal(TypeDecorator[Decimal]):
    """DECIMAL(p, s) where the store has one; a scaled BIGINT on SQLite, which has none.

    SQLite would keep NUMERIC values as binary floats; scaled integers keep sums,
    comparisons and round trips exact.
    """

    impl = Numeric
    cache_ok = True

    def __init__(self, precision: int, scale: int) -> None:
        super().__init__()
        self.precision = precision
        self.scale = scale
        self._quantum = Decimal(1).scaleb(-scale)

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(self.precision, self.scale, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        exact = Decimal(value).quantize(self._quantum)
        return int(exact.scaleb(self.scale)) if dialect.name == "sqlite" else exact

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return Decimal(int(value)).scaleb(-self.scale).quantize(self._quantum)
        return Decimal(value).quantize(self._quantum)


def Money() -> ExactDecimal:
    """Amounts in a currency: 16 digits before the point, 2 after."""
    return ExactDecimal(18, 2)


def Hours() -> ExactDecimal:
    """Durations in hours (service levels): 3 digits after the point."""
    return ExactDecimal(12, 3)


def Rate() -> ExactDecimal:
    """Percentages, CPMs and incentive values: 4 digits after the point."""
    return ExactDecimal(18, 4)


def Quantile() -> ExactDecimal:
    """A quantile of Rate values: a blend of two of them in quarters needs two more places, exactly."""
    return ExactDecimal(24, 6)


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A UTC instant: TIMESTAMPTZ on PostgreSQL, naive UTC elsewhere, always aware in Python.

    Databricks' dialect maps aware timestamps to TIMESTAMP_NTZ; storing naive UTC
    everywhere but PostgreSQL makes that mapping explicit instead of accidental.
    """

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        aware = dialect.name == "postgresql"
        return dialect.type_descriptor(DateTime(timezone=aware))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where a UTC instant is expected")
        utc = value.astimezone(UTC)
        return utc if dialect.name == "postgresql" else utc.replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
