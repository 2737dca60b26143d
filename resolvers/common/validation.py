"""Input checks shared by the mutations; each failure is BAD_USER_INPUT naming the field."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from gateway.core.errors import BadUserInput

# ISO 4217 active codes (2026).
CURRENCIES = frozenset("""
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD
CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD
GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT
LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR
NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP
STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XCG
XOF XPF YER ZAR ZMW ZWG
""".split())
MAX_MONEY = Decimal("9999999999999999.99")
NAME_LENGTH = 200
NOTE_LENGTH = 10_000


def text(value: str | None, field: str, *, max_length: int = NAME_LENGTH,
         required: bool = False) -> str | None:
    """Trimmed text within `max_length`; required text may not be blank."""
    if value is None:
        if required:
            raise BadUserInput(f"{field} is required", field=field)
        return None
    trimmed = no_nul(value, field).strip()
    if required and not trimmed:
        raise BadUserInput(f"{field} may not be blank", field=field)
    if len(trimmed) > max_length:
        raise BadUserInput(f"{field} is longer than {max_length} characters", field=field)
    return trimmed or None


def no_nul(value: str, field: str) -> str:
    """`value` unless it holds a NUL character, which PostgreSQL cannot store or compare."""
    if "\x00" in value:
        raise BadUserInput(f"{field} may not contain the NUL character (U+0000)", field=field)
    return value


def money(value: Decimal, field: str, *, allow_zero: bool = False) -> Decimal:
    """A positive amount with at most 2 decimal places."""
    _finite(value, field, places=2)
    if value < 0 or (value == 0 and not allow_zero) or value > MAX_MONEY:
        raise BadUserInput(f"{field} must be a positive amount", field=field)
    return value


def rate(value: Decimal, field: str) -> Decimal:
    """A positive number with at most 4 decimal places (CPMs, incentive values)."""
    _finite(value, field, places=4)
    if value <= 0 or value > MAX_MONEY:
        raise BadUserInput(f"{field} must be positive", field=field)
    return value


def percent(value: Decimal, field: str) -> Decimal:
    """A percentage within 0-100 with at most 4 decimal places."""
    _finite(value, field, places=4)
    if not Decimal(0) <= value <= Decimal(100):
        raise BadUserInput(f"{field} must be between 0 and 100", field=field)
    return value


def currency(value: str, field: str) -> str:
    """An ISO-4217 currency code."""
    code = value.strip().upper()
    if code not in CURRENCIES:
        raise BadUserInput(f"{field} is not an ISO-4217 currency code", field=field)
    return code


def date_range(start: dt.date | None, end: dt.date | None, field: str) -> None:
    """`end` strictly after `start` when both are given."""
    if start is not None and end is not None and end <= start:
        raise BadUserInput(f"{field} must be after the start date", field=field)


def _finite(value: Decimal, field: str, *, places: int) -> None:
    if not value.is_finite():
        raise BadUserInput(f"{field} is not a number", field=field)
    if abs(value) > MAX_MONEY:
        raise BadUserInput(f"{field} is too large", field=field)
    if value != value.quantize(Decimal(1).scaleb(-places)):
        raise BadUserInput(f"{field} has more than {places} decimal places", field=field)
