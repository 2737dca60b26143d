"""The approval-rules file: the example is the defaults, a bad file stops the start, a good one rules."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from gateway.app import create_app
from gateway.core.settings import Settings
from gateway.store.migrate import migrate
from gateway.workflow.rules import DEFAULT_RULES, rule_steps
from gateway.workflow.rules_file import RulesFileError, approval_rules, load
from tests.support.gateway import Gateway
from tests.support.stores import WITH_JOURNAL
from tests.support.workflow import Workflow, pending, ruled_gateway

STORE_KINDS = WITH_JOURNAL  # also on journaled writes (tests/conftest.py)

EXAMPLE = Path(__file__).resolve().parent.parent / "approval-rules.example.toml"


def test_the_example_file_is_the_default_rules() -> None:
    assert load(EXAMPLE) == DEFAULT_RULES
    assert approval_rules(None) is DEFAULT_RULES


def test_the_setting_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEAL_DESK_APPROVAL_RULES_FILE", "/etc/deal-desk/rules.toml")
    assert Settings(_env_file=None).approval_rules_file == "/etc/deal-desk/rules.toml"  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('[[rules]]\nstage = "CFO"\nalways = true\n', "stage must be one of"),
        ('[[rules]]\nstage = "LEGAL"\nalways = true\nwhen = 3\n', "unknown key(s) when"),
        ('[[rules]]\nstage = "FINANCE"\nvalue_at_least = "1000000"\n', "value_at_least must be a number"),
        ('[[rules]]\nstage = "FINANCE"\nvalue_at_least = true\n', "value_at_least must be a number"),
        ('[[rules]]\nstage = "LEGAL"\nnon_standard_terms = 1\n', "non_standard_terms must be true or false"),
        ('[[rules]]\nstage = "LEGAL"\nalways = false\n', "has no condition"),
        ('[[rules]]\nstage = "LEGAL"\nalways = true\n[[rules]]\nstage = "LEGAL"\nalways = true\n',
         "listed more than once"),
        ("", "no [[rules]] table"),
        ('stages = []\n', "unknown top-level key(s) stages"),
        ("rules = [1]\n", "rule #1 is not a table"),
        ("[[rules]\n", "Expected"),
        ('[[rules]]\nstage = "FINANCE"\nvalue_at_least = nan\n', "finite"),
        ('[[rules]]\nstage = "LEGAL"\nalways = true\nstep = 0\n', "step must be a whole number from 1 on"),
        ('[[rules]]\nstage = "LEGAL"\nalways = true\nstep = 1.5\n', "step must be a whole number"),
        ('[[rules]]\nstage = "LEGAL"\nalways = true\ndue_hours = 0\n', "due_hours must be more than 0"),
        ('[[rules]]\nstage = "LEGAL"\nalways = true\ndue_hours = "2d"\n', "due_hours must be a number"),
        ('[[rules]]\nstage = "LEGAL"\nalways = true\nremind_before_hours = 48\n',
         "remind_before_hours must be at least 0 and less than due_hours (48)"),
        ('[[rules]]\nstage = "LEGAL"\nalways = true\nremind_before_hours = -1\n', "at least 0"),
        ('[[rules]]\nstage = "LEGAL"\nalways = true\nescalate_to = "SELLER"\n', "escalate_to must be one of"),
        ('[[rules]]\nstage = "LEGAL"\nalways = true\nwatch = ["notes"]\n', "'notes' is not one of"),
        ('[[rules]]\nstage = "LEGAL"\nalways = true\nwatch = []\n', "watch must be a non-empty list"),
        ('[[rules]]\nstage = "LEGAL"\nalways = true\nwatch = "tiers"\n', "watch must be a non-empty list"),
        ('[[rules]]\nstage = "LEGAL"\nalways = true\nwatch = ["tiers", "tiers"]\n', "more than once"),
        ('[[rules]]\nstage = "LEGAL"\nalways = true\nreapprove = "never"\n',
         "reapprove must be one of on_change, always"),
        ('[[rules]]\nstage = "LEGAL"\nalways = true\nstep = 2\n[[rules]]\nstage = "FINANCE"\nalways = true\n'
         'step = 1\n', "step 1 comes after step 2"),
    ],
)
def test_a_bad_file_names_itself_and_the_problem(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(text)
    with pytest.raises(RulesFileError) as raised:
        load(path)
    assert str(path) in str(raised.value) and problem in str(raised.value)


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ('[[rules]]\nstage = "SALES_MANAGER"\nalways = true\n\n[[rules]]\nstage = "LEGAL"\n'
         'non_standard_terms = true\ndue_hours = -4\n', 8),
        ('# comment\n[[rules]]\nstage = "SALES_MANAGER"\nalways = true\nwhen = 1\n', 5),
        ('[[rules]]\nstage = "SALES_MANAGER"\nalways = true\n[[rules]]\n  stage = "CFO"\n', 5),
        ('[[rules]]\nstage = "SALES_MANAGER"\nalways = true\n[[rules]]\nstage = "LEGAL"\n', 4),
        ('[[rules]]\nstage = "LEGAL"\nalways = true\nstep = 3\n[[rules]]\nstage = "FINANCE"\n'
         'always = true\nstep = 2\n', 8),
        ('[[rules]]\nstage = "LEGAL"\nalways = true\n[[rules]]\nstage = "LEGAL"\nalways = true\n', 5),
        ('[[rules]]\nstage = "LEGAL"\nalways = true\nwatch = [\n  "tiers",\n  "notes",\n]\n', 4),
        ('[[rules]]\nstage = "LEGAL"\nalways = tru\n', 3),
    ],
)
def test_a_bad_key_or_value_is_named_by_its_line(tmp_path: Path, text: str, line: int) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(text)
    with pytest.raises(RulesFileError, match=rf"\bline {line}\b"):
        load(path)


def test_the_service_keys_and_watch_default_to_what_the_rule_reads(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text('[[rules]]\nstage = "SALES_MANAGER"\nalways = true\n\n'
                    '[[rules]]\nstage = "DEAL_DESK"\ntarget_margin_below = 30\nstep = 1\ndue_hours = 6\n\n'
                    '[[rules]]\nstage = "FINANCE"\nvalue_at_least = 1000000\n'
                    'watch = ["tiers", "totalValue"]\n'
                    'reapprove = "always"\nremind_before_hours = 0\n\n'
                    '[[rules]]\nstage = "LEGAL"\nnon_standard_terms = true\nescalate_to = "ADMIN"\n')
    manager, desk, finance, legal = load(path)
    assert rule_steps((manager, desk, finance, legal)) == [1, 1, 2, 3]
    assert manager.watched == DEFAULT_RULES[0].watched and len(manager.watched) == 9
    assert (desk.watched, desk.due_hours, desk.remind_before_hours) == (("targetMarginPct",), 6, 3)
    assert (finance.watched, finance.reapprove, finance.remind_before_hours) == (
        ("totalValue", "tiers"), "always", 0)
    assert (legal.watched, legal.escalate_to, legal.due_hours, legal.remind_before_hours) == (
        ("nonStandardTerms",), "ADMIN", 48, 12)


def test_the_app_refuses_to_start_with_a_bad_file(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "bad-rules.toml"
    path.write_text('[[rules]]\nstage = "SALES_MANAGER"\nalways = "yes"\n')
    with pytest.raises(RulesFileError, match=r"bad-rules\.toml"):
        create_app(settings.model_copy(update={"approval_rules_file": str(path)}))
    with pytest.raises(RulesFileError, match=r"missing\.toml"):
        create_app(settings.model_copy(update={"approval_rules_file": str(tmp_path / "missing.toml")}))


CUSTOM = """
[[rules]]
stage = "LEGAL"
always = true

[[rules]]
stage = "FINANCE"
value_at_least = 1000.50

[[rules]]
stage = "EXECUTIVE"
value_at_least = 100000000
"""


@pytest.fixture
async def ruled(settings: Settings, tmp_path: Path) -> AsyncIterator[Gateway]:
    """The real app with the CUSTOM rules file."""
    async with ruled_gateway(settings, tmp_path / "custom-rules.toml", CUSTOM) as gateway:
        yield gateway


async def test_a_rules_file_decides_the_chain(ruled: Gateway) -> None:
    flow = await Workflow(ruled).meet()
    deal = await flow.submit(await flow.create(totalValue="1000.50"))
    assert [(a["stage"], a["status"]) for a in deal["approvals"]] == [("LEGAL", "PENDING"),
                                                                        ("FINANCE", "WAITING")]
    deal = await flow.decide(pending(deal)["id"], "APPROVE", who="legal")
    deal = await flow.decide(pending(deal)["id"], "APPROVE", who="finance")
    assert deal["status"] == "APPROVED"


async def test_a_deal_no_stage_applies_to_is_approved_on_submit(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "exec-only.toml"
    path.write_text('[[rules]]\nstage = "EXECUTIVE"\nvalue_at_least = 5000000\n')
    custom = settings.model_copy(update={"approval_rules_file": str(path)})
    app = create_app(custom)
    migrate(app.state.db.engine)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw.test") as client:
        flow = await Workflow(Gateway(app, client, custom)).meet()
        deal = await flow.submit(await flow.create(totalValue="5000"))
    app.state.db.dispose()
    assert (deal["status"], deal["approvals"], deal["version"]) == ("APPROVED", [], 3)
    assert [(h["fromStatus"], h["toStatus"]) for h in deal["statusHistory"]] == [
        (None, "DRAFT"), ("DRAFT", "PENDING_APPROVAL"), ("PENDING_APPROVAL", "APPROVED")]


def test_serve_with_a_bad_rules_file_stops_with_one_line_and_no_traceback(tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text('[[rules]]\nstage = "DEAL_DESK"\nwhen = "always"\n\n[[rules]]\nstage = "NOPE"\n')
    env = {key: value for key, value in os.environ.items() if not key.startswith("DEAL_DESK_")}
    env |= {"DEAL_DESK_DATABASE_URL": f"sqlite:///{tmp_path}/store.db",
            "DEAL_DESK_APPROVAL_RULES_FILE": str(rules)}
    command = [str(Path(sys.executable).with_name("deal-desk")), "serve", "--port", "1"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)

    assert done.returncode == 2
    assert done.stderr.startswith("error: approval rules file") and "rules.toml" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout and len(done.stderr.strip().splitlines()) == 1
