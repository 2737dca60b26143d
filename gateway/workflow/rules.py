"""The default approval-chain rules of PRODUCT.md, kept as data so a rules file can replace them.

A rule names a stage, the conditions that require it (any one suffices), its step (stages of one
step run in parallel), its service level (due, reminder and escalation) and what smart re-approval
watches: the Deal fields whose change since an earlier approval asks the stage again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

TERMS = ("totalValue", "currency", "startDate", "endDate", "tiers", "targetMarginPct", "floorCpm",
         "incentives", "nonStandardTerms")
"""The contract's Deal fields a rule may watch: every term of the deal."""

REAPPROVE = ("on_change", "always")
"""`on_change`: carry an earlier approval over while nothing watched changed; `always`: never carry."""

DUE_HOURS = Decimal(48)
REMIND_BEFORE_HOURS = Decimal(12)
ESCALATE_TO = "DEAL_DESK"


@dataclass(frozen=True)
class DealFacts:
    """What the rules look at, derived once from a deal, its tiers and its incentives."""

    total_value: Decimal
    target_margin_pct: Decimal | None
    lowest_tier_margin: Decimal | None
    percent_incentive_total: Decimal
    has_non_standard_terms: bool


RESTRICTED_TERMS = {"targetMarginPct": "margins", "floorCpm": "margins", "incentives": "incentives"}
"""Terms the field rules restrict (PRODUCT.md), by what a caller must be allowed to see."""


@dataclass(frozen=True)
class Reason:
    """Why a stage is required (or asked again), in words; `restricted`: what a caller must be allowed to
    see (margins, incentives) to read `text`, else `redacted` stands in."""

    text: str
    restricted: tuple[str, ...] = ()
    redacted: str | None = None

    @classmethod
    def restricted_to(cls, kind: str, text: str) -> Reason:
        """A reason that reads a restricted field: others learn only that a restricted condition holds."""
        stage = text.split(":", 1)[0]
        return cls(text, (kind,), f"{stage}: a condition on {kind} holds (restricted for your role)")


@dataclass(frozen=True)
class StageRule:
    """A stage, the conditions that require it (any one suffices), its step, service level and watch.

    `step` None: the step after the previous rule's. `watch` None: the fields its conditions read.
    """

    stage: str
    always: bool = False
    value_at_least: Decimal | None = None
    tier_margin_below: Decimal | None = None
    target_margin_below: Decimal | None = None
    percent_incentives_above: Decimal | None = None
    non_standard_terms: bool = False
    step: int | None = None
    due_hours: Decimal = DUE_HOURS
    remind_before_hours: Decimal = REMIND_BEFORE_HOURS
    escalate_to: str = ESCALATE_TO
    watch: tuple[str, ...] | None = None
    reapprove: str = "on_change"

    def applies(self, facts: DealFacts) -> bool:
        """True when `facts` meet at least one of this rule's conditions."""
        return bool(self.reasons(facts))

    def reasons(self, facts: DealFacts) -> list[Reason]:
        """Each condition of this rule that `facts` meet, in words naming the rule key and threshold."""
        found = []
        if self.always:
            found.append(Reason(f"{self.stage}: required for every deal (always = true)"))
        if _at_least(facts.total_value, self.value_at_least):
            found.append(Reason(f"{self.stage}: totalValue is at least {self.value_at_least} in the deal's "
                                f"currency (value_at_least = {self.value_at_least})"))
        if _below(facts.lowest_tier_margin, self.tier_margin_below):
            found.append(Reason.restricted_to(
                "margins", f"{self.stage}: a tier's marginPct is below {self.tier_margin_below} "
                           f"(tier_margin_below = {self.tier_margin_below})"))
        if _below(facts.target_margin_pct, self.target_margin_below):
            found.append(Reason.restricted_to(
                "margins", f"{self.stage}: targetMarginPct is below {self.target_margin_below} "
                           f"(target_margin_below = {self.target_margin_below})"))
        if _above(facts.percent_incentive_total, self.percent_incentives_above):
            found.append(Reason.restricted_to(
                "incentives", f"{self.stage}: the PERCENT incentives add up to more than "
                              f"{self.percent_incentives_above} (percent_incentives_above = "
                              f"{self.percent_incentives_above})"))
        if self.non_standard_terms and facts.has_non_standard_terms:
            found.append(Reason(f"{self.stage}: nonStandardTerms is not empty (non_standard_terms = true)"))
        return found

    @property
    def watched(self) -> tuple[str, ...]:
        """The Deal fields whose change asks this stage again: `watch`, else what its conditions read."""
        if self.watch is not None:
            return self.watch
        if self.always:
            return TERMS
        read = {
            "totalValue": self.value_at_least is not None,
            "currency": self.value_at_least is not None,  # the threshold is in the deal's currency
            "tiers": self.tier_margin_below is not None,
            "targetMarginPct": self.target_margin_below is not None,
            "incentives": self.percent_incentives_above is not None,
            "nonStandardTerms": self.non_standard_terms,
        }
        return tuple(term for term in TERMS if read.get(term))


def _at_least(value: Decimal, threshold: Decimal | None) -> bool:
    return threshold is not None and value >= threshold


def _below(value: Decimal | None, threshold: Decimal | None) -> bool:
    return threshold is not None and value is not None and value < threshold


def _above(value: Decimal, threshold: Decimal | None) -> bool:
    return threshold is not None and value > threshold


_VALUE = ("totalValue", "currency")
DEFAULT_RULES: tuple[StageRule, ...] = (
    StageRule("SALES_MANAGER", always=True, step=1, watch=TERMS),
    StageRule(
        "DEAL_DESK",
        value_at_least=Decimal("100000"),
        tier_margin_below=Decimal("30"),
        target_margin_below=Decimal("30"),
        step=2, watch=(*_VALUE, "tiers", "targetMarginPct"),
    ),
    StageRule(
        "FINANCE",
        value_at_least=Decimal("1000000"),
        percent_incentives_above=Decimal("10"),
        tier_margin_below=Decimal("20"),
        step=3, watch=(*_VALUE, "tiers", "incentives"),
    ),
    StageRule("LEGAL", non_standard_terms=True, step=4, watch=("nonStandardTerms",)),
    StageRule("EXECUTIVE", value_at_least=Decimal("5000000"), step=5, watch=_VALUE),
)
"""PRODUCT.md's chain: one stage per step, 48 h each; each watches what its conditions read (`watched`)."""


@dataclass(frozen=True)
class RequiredStage:
    """A stage a deal needs: its rule, its step in the chain (1, 2, ...) and why it is needed."""

    rule: StageRule
    step: int
    reasons: tuple[Reason, ...]

    @property
    def stage(self) -> str:
        """The stage's name."""
        return self.rule.stage


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


def rule_steps(rules: Sequence[StageRule]) -> list[int]:
    """Each rule's step: its own `step`, else the one after the previous rule's (the first: 1)."""
    steps: list[int] = []
    for rule in rules:
        steps.append(rule.step if rule.step is not None else (steps[-1] + 1 if steps else 1))
    return steps


def required(facts: DealFacts, rules: Sequence[StageRule] = DEFAULT_RULES) -> list[RequiredStage]:
    """The stages `facts` require, in chain order, their steps numbered 1, 2, ... among those required."""
    steps = zip(rule_steps(rules), rules, strict=True)
    applying = [(step, rule, reasons) for step, rule in steps if (reasons := rule.reasons(facts))]
    numbered = {step: number for number, step in enumerate(sorted({s for s, _, _ in applying}), start=1)}
    return [RequiredStage(rule, numbered[step], tuple(reasons)) for step, rule, reasons in applying]


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
    return [needed.stage for needed in required(facts, rules)]
