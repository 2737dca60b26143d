"""The default approval-chain rules of PRODUCT.md, kept as data so a rules file can replace them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class DealFacts:
    """What the rules look at, derived once from a deal, its tiers and its incentives."""

    total_value: Decimal
    target_margin_pct: Decimal | None
    lowest_tier_margin: Decimal | None
    percent_incentive_total: Decimal
    has_non_standard_terms: bool


@dataclass(frozen=True)
class StageRule:
    """A stage and the conditions that require it; any one condition suffices."""

    stage: str
    always: bool = False
    value_at_least: Decimal | None = None
    tier_margin_below: Decimal | None = None
    target_margin_below: Decimal | None = None
    percent_incentives_above: Decimal | None = None
    non_standard_terms: bool = False

    def applies(self, facts: DealFacts) -> bool:
        """True when `facts` meet at least one of this rule's conditions."""
        return (
            self.always
            or _at_least(facts.total_value, self.value_at_least)
            or _below(facts.lowest_tier_margin, self.tier_margin_below)
            or _below(facts.target_margin_pct, self.target_margin_below)
            or _above(facts.percent_incentive_total, self.percent_incentives_above)
            or (self.non_standard_terms and facts.has_non_standard_terms)
        )


def _at_least(value: Decimal, threshold: Decimal | None) -> bool:
    return threshold is not None and value >= threshold


def _below(value: Decimal | None, threshold: Decimal | None) -> bool:
    return threshold is not None and value is not None and value < threshold


def _above(value: Decimal, threshold: Decimal | None) -> bool:
    return threshold is not None and value > threshold


DEFAULT_RULES: tuple[StageRule, ...] = (
    StageRule("SALES_MANAGER", always=True),
    StageRule(
        "DEAL_DESK",
        value_at_least=Decimal("100000"),
        tier_margin_below=Decimal("30"),
        target_margin_below=Decimal("30"),
    ),
    StageRule(
        "FINANCE",
        value_at_least=Decimal("1000000"),
        percent_incentives_above=Decimal("10"),
        tier_margin_below=Decimal("20"),
    ),
    StageRule("LEGAL", non_standard_terms=True),
    StageRule("EXECUTIVE", value_at_least=Decimal("5000000")),
)


def deal_facts(
    *,
    total_value: Decimal,
    target_margin_pct: Decimal | None,
    tier_margins: Sequence[Decimal | None],
    percent_incentives: Sequence[Decimal],
    non_standard_terms: str | None,
) -> DealFacts:
    """Reduce a deal's fields, tier margins and PERCENT incentive values to rule inputs."""
    margins = [margin for margin in tier_margins if margin is not None]
    return DealFacts(
        total_value=total_value,
        target_margin_pct=target_margin_pct,
        lowest_tier_margin=min(margins, default=None),
        percent_incentive_total=sum(percent_incentives, Decimal(0)),
        has_non_standard_terms=bool(non_standard_terms and non_standard_terms.strip()),
    )


def required_stages(
    *,
    total_value: Decimal,
    target_margin_pct: Decimal | None,
    tier_margins: Sequence[Decimal | None],
    percent_incentives: Sequence[Decimal],
    non_standard_terms: str | None,
    rules: Sequence[StageRule] = DEFAULT_RULES,
) -> list[str]:
    """The approval stages a deal needs, in chain order."""
    facts = deal_facts(
        total_value=total_value,
        target_margin_pct=target_margin_pct,
        tier_margins=tier_margins,
        percent_incentives=percent_incentives,
        non_standard_terms=non_standard_terms,
    )
    return [rule.stage for rule in rules if rule.applies(facts)]
