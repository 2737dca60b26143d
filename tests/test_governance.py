"""`deal-desk databricks governance`: user_access, the governed views and the grants, printed or run.

The views' rules are the gateway's own (auth/rules.py): the twin tests fail when a row rule of
auth/rows.py or a restricted field of the served schema has no counterpart in the views.
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import literal_column, select
from sqlalchemy.dialects import sqlite
from typer.testing import CliRunner

from auth import rows
from auth.fields import CanSeeIncentives, CanSeeMargins
from auth.principal import Principal
from gateway.core import tables
from gateway.core.roles import Role
from gateway.ops.cli import cli
from gateway.store import governance
from resolvers.schema import schema
from tests.support.fake_warehouse import FakeWarehouse, fake_warehouse

URL = "databricks://adb-1.azuredatabricks.net?http_path=/sql/1.0/warehouses/abc&catalog=main&schema=deal_desk_test"
BASE = "`main`.`deal_desk_test`"
VIEWS = "`main`.`deal_desk_test_analytics`"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """A Databricks store in the environment, and nothing else of DEAL_DESK_*."""
    import os

    for key in [key for key in os.environ if key.startswith("DEAL_DESK_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("DEAL_DESK_DATABASE_URL", URL)
    monkeypatch.setenv("DEAL_DESK_DATABRICKS_TOKEN", "dapi-test")
    return monkeypatch


@pytest.fixture
def warehouse() -> Iterator[FakeWarehouse]:
    """The recording stand-in for the warehouse."""
    with fake_warehouse() as fake:
        yield fake


def run(*arguments: str) -> Any:
    """`deal-desk databricks governance ARGUMENTS`, in process."""
    return CliRunner().invoke(cli, ["databricks", "governance", *arguments])


def printed(result: Any) -> list[str]:
    """The statements the command printed."""
    assert result.exit_code == 0, result.output
    return [sql.strip() for sql in result.stdout.strip().removesuffix(";").split(";\n\n")]


def test_it_prints_user_access_a_view_per_core_table_and_the_grants(env: pytest.MonkeyPatch) -> None:
    sql = printed(run())
    assert sql[0].startswith(f"CREATE SCHEMA IF NOT EXISTS {VIEWS}")
    assert sql[1].startswith(f"CREATE TABLE IF NOT EXISTS {BASE}.`user_access` (user_id STRING NOT NULL")
    assert sql[2].startswith(f"MERGE INTO {BASE}.`user_access` AS target USING (SELECT id AS user_id")
    assert "WHEN NOT MATCHED BY SOURCE THEN DELETE" in sql[2] and "WHERE active" in sql[2]
    views = [s.split()[4] for s in sql if s.startswith("CREATE OR REPLACE VIEW")]
    assert views == [f"{VIEWS}.`{table.name}`" for table in tables.CORE_TABLES]
    assert f"GRANT SELECT ON TABLE {VIEWS}.`deals` TO `dealdesk-analysts`" in sql
    assert f"GRANT USE SCHEMA ON SCHEMA {VIEWS} TO `dealdesk-analysts`" in sql


def test_analysts_get_nothing_on_the_base_tables_and_the_gateway_keeps_its_grants(
        env: pytest.MonkeyPatch) -> None:
    env.setenv("DEAL_DESK_DATABRICKS_GATEWAY_PRINCIPAL", "deal-desk-gateway")
    sql = printed(run())
    grants = [s for s in sql if s.startswith("GRANT")]
    assert not [s for s in grants if BASE in s and "analysts" in s]
    for table in [*tables.metadata.sorted_tables, governance.user_access]:
        assert f"REVOKE ALL PRIVILEGES ON TABLE {BASE}.`{table.name}` FROM `dealdesk-analysts`" in sql
    assert f"REVOKE ALL PRIVILEGES ON SCHEMA {BASE} FROM `dealdesk-analysts`" in sql
    assert f"GRANT USE SCHEMA, SELECT, MODIFY ON SCHEMA {BASE} TO `deal-desk-gateway`" in sql
    assert not [s for s in sql if s.startswith("REVOKE") and "deal-desk-gateway" in s]


def view_sql(sql: list[str], name: str) -> str:
    (found,) = [s for s in sql if s.startswith(f"CREATE OR REPLACE VIEW {VIEWS}.`{name}`")]
    return found


def test_the_views_mask_restricted_fields_and_leave_bookkeeping_out(env: pytest.MonkeyPatch) -> None:
    sql = printed(run())
    deals = view_sql(sql, "deals")
    assert "THEN t.target_margin_pct END AS target_margin_pct" in deals
    assert "THEN t.floor_cpm END AS floor_cpm" in deals
    assert "last_operation_id" not in deals
    assert "THEN t.margin_pct END AS margin_pct" in view_sql(sql, "deal_tiers")
    assert "terms_digest" not in view_sql(sql, "deal_approvals")
    assert "t.sub" not in view_sql(sql, "users")
    assert "lower(current_user())" in deals and f"FROM {BASE}.user_access AS ua" in deals
    assert "is_account_group_member('dealdesk-analysts')" in deals
    assert not [s for s in sql if "decidable" in s or ("VIEW" in s and "audit_log" in s)]


def test_a_store_that_is_not_databricks_is_refused(env: pytest.MonkeyPatch) -> None:
    env.setenv("DEAL_DESK_DATABASE_URL", "sqlite:///./x.db")
    result = run()
    assert result.exit_code == 2 and "NOT_DATABRICKS" in result.stderr and not result.stdout


@pytest.mark.parametrize(("variable", "value"), [
    ("DEAL_DESK_DATABRICKS_ANALYTICS_SCHEMA", "analytics; DROP SCHEMA x"),
    ("DEAL_DESK_DATABRICKS_ANALYTICS_SCHEMA", "a`b"),
    ("DEAL_DESK_DATABRICKS_ANALYSTS_GROUP", "analysts` TO `everyone"),
    ("DEAL_DESK_DATABRICKS_GATEWAY_PRINCIPAL", "gw'--"),
    ("DEAL_DESK_AUTH_ROLE_MAP", '{"x\'y": "ANALYST"}'),
])
def test_a_name_that_is_not_plain_is_refused_and_nothing_is_printed(
        env: pytest.MonkeyPatch, variable: str, value: str) -> None:
    env.setenv(variable, value)
    result = run()
    assert result.exit_code == 2 and "BAD_NAME" in result.stderr and not result.stdout


def test_without_an_analysts_group_it_says_so(env: pytest.MonkeyPatch) -> None:
    env.setenv("DEAL_DESK_AUTH_ROLE_MAP", '{"dealdesk-sellers": "SELLER"}')
    result = run()
    assert result.exit_code == 2 and "NO_ANALYSTS_GROUP" in result.stderr
    env.setenv("DEAL_DESK_DATABRICKS_ANALYSTS_GROUP", "bi-analysts@example.com")
    assert "TO `bi-analysts@example.com`" in run().stdout


def test_apply_runs_exactly_what_it_prints(env: pytest.MonkeyPatch, warehouse: FakeWarehouse) -> None:
    expected = printed(run())
    result = run("--apply")
    assert result.exit_code == 0, result.output
    assert [sql.strip() for sql in warehouse.sql() if sql != "SELECT 1"] == expected


def test_a_refused_statement_stops_apply_without_echoing_sql(
        env: pytest.MonkeyPatch, warehouse: FakeWarehouse) -> None:
    from databricks.sql.exc import ServerOperationError

    refusal = ServerOperationError("[PERMISSION_DENIED] secret detail of deals")
    warehouse.fail(refusal, on="CREATE OR REPLACE VIEW")
    result = run("--apply")
    assert result.exit_code == 1 and "WAREHOUSE_REFUSED" in result.stderr
    assert "statement 4 of" in result.stderr and "secret detail" not in result.stderr
    assert "is_account_group_member" not in result.output
    sent = [sql for sql in warehouse.sql() if sql != "SELECT 1"]
    assert len(sent) == 4 and sent[-1].startswith("CREATE OR REPLACE VIEW")


def test_sync_users_only_refreshes_user_access(env: pytest.MonkeyPatch, warehouse: FakeWarehouse) -> None:
    result = run("--sync-users", "--apply")
    assert result.exit_code == 0, result.output
    sent = [sql for sql in warehouse.sql() if sql != "SELECT 1"]
    assert [sql.split()[0] for sql in sent] == ["CREATE", "MERGE"]


PRINCIPALS = [
    Principal(user_id="u1", sub="s", email="e", name="n", roles=frozenset(roles), region=region)
    for count in (0, 1, 2) for roles in itertools.combinations(list(Role), count) for region in (None, "EMEA")
]


def rendered(condition: Any) -> tuple[str, dict[str, Any]]:
    compiled = select(literal_column("1")).where(condition).compile(dialect=sqlite.dialect())
    return str(compiled), compiled.params


def test_every_row_rule_of_the_gateway_has_its_twin_in_the_views() -> None:
    """Each visible_* of auth/rows.py renders, for every caller, as the rule of a governed view does."""
    functions = {name: function for name, function in inspect.getmembers(rows, inspect.isfunction)
                 if function.__module__ == rows.__name__ and not name.startswith("_")}
    assert set(functions) - governance.GATEWAY_ONLY_RULES
    for name, function in functions.items():
        if name in governance.GATEWAY_ONLY_RULES:
            continue
        twins = [view for view in governance.VIEWS if view.rows is not None and all(
            rendered(function(principal)) == rendered(view.rows.condition(rows.Caller(principal), view.table))
            for principal in PRINCIPALS)]
        assert twins, f"auth.rows.{name} has no twin among the governed views"


def test_every_core_table_has_a_view_with_a_row_rule() -> None:
    assert [view.table for view in governance.VIEWS] == list(tables.CORE_TABLES)
    for view in governance.VIEWS:
        assert (view.rows is None) != (view.through_deal is None), view.table.name


TYPE_TABLES = {"Deal": tables.deals, "DealTier": tables.deal_tiers}
LIST_TABLES = {("Deal", "incentives"): tables.incentive_values}


# Pricing guidance's margin quartiles are aggregates of pricing_segments, a table derived by the refresh that
# gets no governed view: analysts compute their own from the governed deals view, under the same rule.
NO_VIEW = {("PricingGuidance", "margin_pct")}


def test_every_restricted_field_of_the_schema_has_its_twin_in_the_views() -> None:
    """A field with a permission class is masked by the same rule in its table's view, or its rows are."""
    by_table = {view.table.name: view for view in governance.VIEWS}
    found = 0
    for graphql_type in schema.schema_converter.type_map.values():
        definition: Any = graphql_type.definition
        for field in getattr(definition, "fields", None) or []:
            for permission in getattr(field, "permission_classes", None) or []:
                assert permission in (CanSeeMargins, CanSeeIncentives), permission
                found += 1
                rule = permission.rule
                if (definition.name, field.python_name) in NO_VIEW:
                    assert rule is CanSeeMargins.rule
                    continue
                if (definition.name, field.python_name) in LIST_TABLES:
                    view = by_table[LIST_TABLES[(definition.name, field.python_name)].name]
                    assert view.deal_field is rule, (definition.name, field.python_name)
                    continue
                assert definition.name in TYPE_TABLES, f"{definition.name}.{field.python_name}: no view"
                view = by_table[TYPE_TABLES[definition.name].name]
                assert view.masked.get(field.python_name) is rule, (definition.name, field.python_name)
    assert found == 5
