"""The approval-rules file: a TOML file that replaces the built-in DEFAULT_RULES.

Point `DEAL_DESK_APPROVAL_RULES_FILE` at it; unset, the defaults of PRODUCT.md apply. The file
lists the chain's stages in order, one `[[rules]]` table each, with the fields of StageRule. A
stage is required when any one of its conditions holds; absent keys are conditions not used:

    [[rules]]
    stage = "DEAL_DESK"            # SALES_MANAGER, DEAL_DESK, FINANCE, LEGAL or EXECUTIVE, each once
    always = false                 # required for every deal
    value_at_least = 100000        # totalValue >= this, in the deal's currency
    tier_margin_below = 30         # some tier's marginPct < this
    target_margin_below = 30       # targetMarginPct < this
    percent_incentives_above = 10  # the PERCENT incentives add up to more than this
    non_standard_terms = false     # nonStandardTerms is not empty

Numbers are read as exact decimals (integers or TOML floats). An unreadable file, an unknown key
or stage, a value of the wrong type, a stage listed twice, a rule with no condition or a file
with no rule raises RulesFileError naming the file and the problem; the gateway loads the file in
`create_app`, so it refuses to start. `approval-rules.example.toml` at the project root holds the
built-in defaults.
"""

from __future__ import annotations

import functools
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

from gateway.core.tables import STAGES
from gateway.workflow.rules import DEFAULT_RULES, StageRule

FLAGS = ("always", "non_standard_terms")
THRESHOLDS = ("value_at_least", "tier_margin_below", "target_margin_below", "percent_incentives_above")


class RulesFileError(ValueError):
    """The approval-rules file cannot be used."""


def approval_rules(path: str | None) -> tuple[StageRule, ...]:
    """The rules in force: the file's at `path` (read once), else the built-in defaults."""
    return DEFAULT_RULES if path is None else _cached(path)


@functools.cache
def _cached(path: str) -> tuple[StageRule, ...]:
    return load(Path(path))


def load(path: Path) -> tuple[StageRule, ...]:
    """The rules of the file at `path`; RulesFileError naming the file and the problem."""
    try:
        return parse(tomllib.loads(path.read_text(encoding="utf-8"), parse_float=Decimal))
    except (OSError, ValueError) as error:  # TOMLDecodeError is a ValueError
        raise RulesFileError(f"approval rules file {path}: {error}") from error


def parse(document: dict[str, Any]) -> tuple[StageRule, ...]:
    """The rules of a parsed TOML document, checked."""
    unknown = sorted(set(document) - {"rules"})
    if unknown:
        raise ValueError(f"unknown top-level key(s) {', '.join(unknown)}; expected [[rules]] tables")
    entries = document.get("rules")
    if not isinstance(entries, list) or not entries:
        raise ValueError("no [[rules]] table: at least one rule is needed")
    rules = tuple(_rule(entry, f"rule #{number}") for number, entry in enumerate(entries, start=1))
    _check_unique([rule.stage for rule in rules])
    return rules


def _rule(entry: object, where: str) -> StageRule:
    if not isinstance(entry, dict):
        raise ValueError(f"{where} is not a table")
    unknown = sorted(set(entry) - {"stage", *FLAGS, *THRESHOLDS})
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {', '.join(unknown)}")
    stage = entry.get("stage")
    if stage not in STAGES:
        raise ValueError(f"{where}: stage must be one of {', '.join(STAGES)}, not {stage!r}")
    where = f"{where} ({stage})"
    flags = {key: _flag(entry[key], f"{where} {key}") for key in FLAGS if key in entry}
    limits = {key: _number(entry[key], f"{where} {key}") for key in THRESHOLDS if key in entry}
    if not any(flags.values()) and not limits:
        raise ValueError(f"{where} has no condition, so the stage would never be required")
    conditions: dict[str, Any] = {**flags, **limits}
    return StageRule(stage, **conditions)


def _flag(value: object, where: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{where} must be true or false, not {value!r}")
    return value


def _number(value: object, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise ValueError(f"{where} must be a number, not {value!r}")
    number = Decimal(value)
    if not number.is_finite():
        raise ValueError(f"{where} must be a finite number, not {value!r}")
    return number


def _check_unique(stages: list[str]) -> None:
    repeated = sorted({stage for stage in stages if stages.count(stage) > 1})
    if repeated:
        raise ValueError(f"stage(s) listed more than once: {', '.join(repeated)}")
