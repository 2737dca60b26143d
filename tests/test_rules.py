"""The default approval-chain rules of PRODUCT.md, at their boundaries."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import pytest

from gateway.workflow.rules import DEFAULT_RULES, StageRule, required_stages


def stages(
    value: str = "50000",
    target: str | None = "35",
    tiers: Sequence[str | None] = ("40",),
    percents: Sequence[str] = (),
    terms: str | None = None,
) -> list[str]:
    """required_stages for a deal that needs only the sales manager unless told otherwise."""
    return required_stages(
        total_value=Decimal(value),
        target_margin_pct=None if target is None else Decimal(target),
        tier_margins=[None if m is None else Decimal(m) for m in tiers],
        percent_incentives=[Decimal(p) for p in percents],
        non_standard_terms=terms,
    )


def test_sales_manager_always_and_alone_for_a_small_healthy_deal() -> None:
    assert stages() == ["SALES_MANAGER"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("99999.99", ["SALES_MANAGER"]),
        ("100000", ["SALES_MANAGER", "DEAL_DESK"]),
        ("999999.99", ["SALES_MANAGER", "DEAL_DESK"]),
        ("1000000", ["SALES_MANAGER", "DEAL_DESK", "FINANCE"]),
        ("4999999.99", ["SALES_MANAGER", "DEAL_DESK", "FINANCE"]),
        ("5000000", ["SALES_MANAGER", "DEAL_DESK", "FINANCE", "EXECUTIVE"]),
    ],
)
def test_value_thresholds_are_inclusive(value: str, expected: list[str]) -> None:
    assert stages(value=value) == expected


@pytest.mark.parametrize(
    ("target", "tiers", "expected"),
    [
        ("30", ("30",), ["SALES_MANAGER"]),
        ("29.99", ("30",), ["SALES_MANAGER", "DEAL_DESK"]),
        ("30", ("45", "29.99"), ["SALES_MANAGER", "DEAL_DESK"]),
        ("30", ("20",), ["SALES_MANAGER", "DEAL_DESK"]),
        ("30", ("19.99",), ["SALES_MANAGER", "DEAL_DESK", "FINANCE"]),
        ("19.99", ("30",), ["SALES_MANAGER", "DEAL_DESK"]),
        (None, (None,), ["SALES_MANAGER"]),
        (None, (), ["SALES_MANAGER"]),
    ],
)
def test_margin_thresholds(
    target: str | None, tiers: Sequence[str | None], expected: list[str]
) -> None:
    assert stages(target=target, tiers=tiers) == expected


@pytest.mark.parametrize(
    ("percents", "expected"),
    [
        (("5", "5"), ["SALES_MANAGER"]),
        (("5", "5.0001"), ["SALES_MANAGER", "FINANCE"]),
        (("10.5",), ["SALES_MANAGER", "FINANCE"]),
    ],
)
def test_percent_incentives_must_exceed_ten(percents: Sequence[str], expected: list[str]) -> None:
    assert stages(percents=percents) == expected


@pytest.mark.parametrize(("terms", "legal"), [(None, False), ("", False), ("  ", False),
                                              ("Net 90", True)])
def test_legal_when_terms_are_not_empty(terms: str | None, legal: bool) -> None:
    assert ("LEGAL" in stages(terms=terms)) is legal


def test_every_stage_in_chain_order() -> None:
    expected = ["SALES_MANAGER", "DEAL_DESK", "FINANCE", "LEGAL", "EXECUTIVE"]
    assert stages(value="6000000", target="10", tiers=("5",), percents=("11",), terms="x") == expected


def test_rules_are_data_that_can_be_replaced() -> None:
    rules = (*DEFAULT_RULES[:1], StageRule("LEGAL", value_at_least=Decimal("1")))
    assert required_stages(
        total_value=Decimal("1"), target_margin_pct=None, tier_margins=[],
        percent_incentives=[], non_standard_terms=None, rules=rules,
    ) == ["SALES_MANAGER", "LEGAL"]
