"""A deal's terms as one digest per watched field: what smart re-approval compares between submissions.

Each submission stores the digests on its approvals (`deal_approvals.terms_digest`); a deal cannot be
edited while PENDING_APPROVAL, so they are also the terms every approval of that chain was given on.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Row

from gateway.workflow.rules import TERMS


def _decimal(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


def values(deal: Any, tiers: Sequence[Row[Any]], incentives: Sequence[Row[Any]]) -> dict[str, Any]:
    """The deal's value of each term, in a form that compares equal exactly when the term is the same."""
    return {
        "totalValue": _decimal(deal.total_value),
        "currency": deal.currency,
        "startDate": deal.start_date.isoformat(),
        "endDate": deal.end_date.isoformat(),
        "tiers": [[_decimal(t.min_spend), _decimal(t.max_spend), _decimal(t.cpm), _decimal(t.margin_pct)]
                  for t in tiers],
        "targetMarginPct": _decimal(deal.target_margin_pct),
        "floorCpm": _decimal(deal.floor_cpm),
        "incentives": [[i.type, i.unit, _decimal(i.value), i.description] for i in incentives],
        "nonStandardTerms": (deal.non_standard_terms or "").strip(),
    }


def digests(deal: Any, tiers: Sequence[Row[Any]], incentives: Sequence[Row[Any]]) -> dict[str, str]:
    """A short SHA-256 per term: the stored form (no term's value is kept in clear a second time)."""
    return {term: hashlib.sha256(json.dumps(value).encode()).hexdigest()[:16]
            for term, value in values(deal, tiers, incentives).items()}


def encode(terms: Mapping[str, str]) -> str:
    """The digests as the JSON text of `deal_approvals.terms_digest`."""
    return json.dumps(dict(terms), sort_keys=True)


def changed(stored: str | None, now: Mapping[str, str], watched: Sequence[str]) -> list[str]:
    """The watched terms that differ from the stored digests (every one when none were stored)."""
    before: dict[str, str] = json.loads(stored) if stored else {}
    return [term for term in TERMS if term in watched and before.get(term) != now[term]]
