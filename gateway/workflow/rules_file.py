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
    step = 2                       # stages of one step are PENDING together; default: the previous rule's + 1
    due_hours = 48                 # hours from the stage's start to its due time (> 0)
    remind_before_hours = 12       # approvers are reminded this long before it is due (< due_hours)
    escalate_to = "DEAL_DESK"      # the role told when it is overdue
    watch = ["totalValue"]         # Deal fields whose change asks the stage again; default: what it reads
    reapprove = "on_change"        # or "always": never carry an earlier approval over

Numbers are read as exact decimals (integers or TOML floats). An unreadable file, an unknown key
or stage, a value of the wrong type, a stage listed twice, a step lower than the one before, a rule
with no condition or a file with no rule raises RulesFileError naming the file, the line and the
problem; the gateway loads the file in `create_app`, so it refuses to start.
`approval-rules.example.toml` at the project root holds the built-in defaults, every key shown.
"""

from __future__ import annotations

import functools
import re
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

from gateway.core.roles import Role
from gateway.core.tables import STAGES
from gateway.workflow.rules import DEFAULT_RULES, REAPPROVE, TERMS, StageRule

FLAGS = ("always", "non_standard_terms")
THRESHOLDS = ("value_at_least", "tier_margin_below", "target_margin_below", "percent_incentives_above")
SERVICE = ("step", "due_hours", "remind_before_hours", "escalate_to", "watch", "reapprove")
ESCALATION_ROLES = (*STAGES, Role.ADMIN.value)
_HEADER = re.compile(r"^\s*\[\[\s*rules\s*\]\]")


class RulesFileError(ValueError):
    """The approval-rules file cannot be used."""


class _Located(ValueError):
    """A problem found at one line of the file."""

    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(message if line is None else f"line {line}: {message}")


def approval_rules(path: str | None) -> tuple[StageRule, ...]:
    """The rules in force: the file's at `path` (read once), else the built-in defaults."""
    return DEFAULT_RULES if path is None else _cached(path)


@functools.cache
def _cached(path: str) -> tuple[StageRule, ...]:
    return load(Path(path))


def load(path: Path) -> tuple[StageRule, ...]:
    """The rules of the file at `path`; RulesFileError naming the file, the line and the problem."""
    try:
        text = path.read_text(encoding="utf-8")
        return parse(tomllib.loads(text, parse_float=Decimal), text)
    except (OSError, ValueError) as error:  # TOMLDecodeError is a ValueError, with its line in the message
        raise RulesFileError(f"approval rules file {path}: {error}") from error


def parse(document: dict[str, Any], text: str = "") -> tuple[StageRule, ...]:
    """The rules of a parsed TOML document (its `text` locates problems by line), checked."""
    lines = _Lines(text)
    unknown = sorted(set(document) - {"rules"})
    if unknown:
        raise _Located(lines.top(unknown[0]),
                       f"unknown top-level key(s) {', '.join(unknown)}; expected [[rules]] tables")
    entries = document.get("rules")
    if not isinstance(entries, list) or not entries:
        raise ValueError("no [[rules]] table: at least one rule is needed")
    rules = tuple(_rule(entry, number, lines) for number, entry in enumerate(entries, start=1))
    _check_unique([rule.stage for rule in rules], lines)
    _check_steps(rules, lines)
    return rules


class _Lines:
    """Finds the line of a rule's key in the file's text (TOML parsers give values, not positions)."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.headers = [number for number, line in enumerate(self.lines) if _HEADER.match(line)]

    def top(self, key: str) -> int | None:
        """The line of a top-level key."""
        return self._find(key, 0, self.headers[0] if self.headers else len(self.lines))

    def of(self, rule: int, key: str | None = None) -> int | None:
        """The line (1-based) of `key` in rule #`rule`, else of the rule's header; None if unknown."""
        if rule > len(self.headers):
            return None
        start = self.headers[rule - 1]
        end = self.headers[rule] if rule < len(self.headers) else len(self.lines)
        found = self._find(key, start + 1, end) if key is not None else None
        return found if found is not None else start + 1

    def _find(self, key: str, start: int, end: int) -> int | None:
        pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
        return next((n + 1 for n in range(start, end) if pattern.match(self.lines[n])), None)


def _rule(entry: object, number: int, lines: _Lines) -> StageRule:
    where = f"rule #{number}"
    if not isinstance(entry, dict):
        raise _Located(lines.of(number), f"{where} is not a table")
    unknown = sorted(set(entry) - {"stage", *FLAGS, *THRESHOLDS, *SERVICE})
    if unknown:
        raise _Located(lines.of(number, unknown[0]), f"{where}: unknown key(s) {', '.join(unknown)}")
    stage = entry.get("stage")
    if stage not in STAGES:
        raise _Located(lines.of(number, "stage"),
                       f"{where}: stage must be one of {', '.join(STAGES)}, not {stage!r}")
    where = f"{where} ({stage})"

    def check(key: str, reader: Any, *args: Any) -> Any:
        try:
            return reader(entry[key], f"{where} {key}", *args)
        except ValueError as error:
            raise _Located(lines.of(number, key), str(error)) from None

    flags = {key: check(key, _flag) for key in FLAGS if key in entry}
    limits = {key: check(key, _number) for key in THRESHOLDS if key in entry}
    if not any(flags.values()) and not limits:
        raise _Located(lines.of(number), f"{where} has no condition, so the stage would never be required")
    service: dict[str, Any] = {}
    if "step" in entry:
        service["step"] = check("step", _positive_int)
    if "due_hours" in entry:
        service["due_hours"] = check("due_hours", _positive)
    if "remind_before_hours" in entry:
        service["remind_before_hours"] = check("remind_before_hours", _number)
    due = service.get("due_hours", StageRule.due_hours)
    remind = service.get("remind_before_hours", min(StageRule.remind_before_hours, due / 2))
    if not 0 <= remind < due:
        key = "remind_before_hours" if "remind_before_hours" in entry else "due_hours"
        raise _Located(lines.of(number, key), f"{where} remind_before_hours must be at least 0 and less "
                                              f"than due_hours ({due}), not {remind}")
    service["remind_before_hours"] = remind
    if "escalate_to" in entry:
        service["escalate_to"] = check("escalate_to", _one_of, ESCALATION_ROLES)
    if "watch" in entry:
        service["watch"] = check("watch", _terms)
    if "reapprove" in entry:
        service["reapprove"] = check("reapprove", _one_of, REAPPROVE)
    return StageRule(stage, **flags, **limits, **service)


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


def _positive(value: object, where: str) -> Decimal:
    number = _number(value, where)
    if number <= 0:
        raise ValueError(f"{where} must be more than 0, not {value!r}")
    return number


def _positive_int(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{where} must be a whole number from 1 on, not {value!r}")
    return value


def _one_of(value: object, where: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValueError(f"{where} must be one of {', '.join(allowed)}, not {value!r}")
    return str(value)


def _terms(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise ValueError(f"{where} must be a non-empty list of Deal fields ({', '.join(TERMS)})")
    unknown = [term for term in value if term not in TERMS]
    if unknown:
        raise ValueError(f"{where}: {', '.join(map(repr, unknown))} is not one of {', '.join(TERMS)}")
    if len(set(value)) != len(value):
        raise ValueError(f"{where} lists a field more than once")
    return tuple(term for term in TERMS if term in value)


def _check_unique(stages: list[str], lines: _Lines) -> None:
    repeated = sorted({stage for stage in stages if stages.count(stage) > 1})
    if repeated:
        again = max(n for n, stage in enumerate(stages, start=1) if stage == repeated[0])
        raise _Located(lines.of(again, "stage"), f"stage(s) listed more than once: {', '.join(repeated)}")


def _check_steps(rules: tuple[StageRule, ...], lines: _Lines) -> None:
    highest = 0
    for number, rule in enumerate(rules, start=1):
        if rule.step is not None and rule.step < highest:
            raise _Located(lines.of(number, "step"),
                           f"rule #{number} ({rule.stage}) step {rule.step} comes after step {highest}: "
                           f"list the rules in chain order")
        highest = rule.step if rule.step is not None else highest + 1
