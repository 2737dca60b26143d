"""The governance SQL on Spark SQL: it parses, and the governed views answer what the gateway answers.

The views run on local Spark over the demo data exactly as `deal-desk databricks governance` prints them,
with two stand-ins Unity Catalog provides and OSS Spark lacks: `current_user()` becomes the reader's
e-mail and `is_account_group_member('<group>')` TRUE or FALSE by the reader's groups (the role map's).
The gateway's side is its own rules over the same data on SQLite: the row conditions of auth/rows.py
(a deal's children through their deal) and the field permissions of auth/fields.py.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, Table, select

from auth import rows
from auth.fields import CanSeeIncentives, CanSeeMargins, may_read
from auth.principal import Principal
from gateway.app import create_app
from gateway.core import tables
from gateway.core.roles import Role
from gateway.core.settings import DEFAULT_ROLE_MAP, Settings
from gateway.ops import governance as ops
from gateway.store import governance
from tests.spark.conftest import WAREHOUSE_URL, warehouse_value
from tests.spark.test_parse import parse
from tests.spark.test_reads import assert_same_rows
from tests.support.fake_warehouse import FakeWarehouse
from tests.support.gateway import Gateway

pytestmark = [
    pytest.mark.spark,
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning"),
]

SETTINGS = Settings(database_url=WAREHOUSE_URL, databricks_token="dapi-test-token",  # type: ignore[arg-type]
                    databricks_gateway_principal="deal-desk-gateway", _env_file=None)  # type: ignore[call-arg]


def governance_sql() -> list[str]:
    """Everything the command prints for the spark tier's warehouse URL."""
    return ops.statements(SETTINGS, ops.dialect_of(SETTINGS))


SQL = governance_sql()
PARSED = [sql for sql in SQL if not sql.startswith(("GRANT", "REVOKE"))]
GRANTS = [sql for sql in SQL if sql.startswith(("GRANT", "REVOKE"))]
BASE = "`main`.`deal_desk_test`."
MEMBER = re.compile(r"is_account_group_member\('([^']*)'\)")
PRIVILEGE = re.compile(r"(GRANT [A-Z ,]+ ON (CATALOG|SCHEMA|TABLE) `[^`]+`(\.`[^`]+`)* TO `[^`]+`"
                       r"|REVOKE ALL PRIVILEGES ON (SCHEMA|TABLE) `[^`]+`(\.`[^`]+`)* FROM `[^`]+`)")


def label(sql: str) -> str:
    return " ".join(sql.split()[:5])


@pytest.mark.parametrize("sql", PARSED, ids=[label(sql) for sql in PARSED])
def test_governance_statement_parses(spark: Any, sql: str) -> None:
    parse(spark, sql)


@pytest.mark.parametrize("sql", GRANTS, ids=[label(sql) for sql in GRANTS])
def test_grants_are_well_formed_and_spark_knows_them_as_unsupported_commands(spark: Any, sql: str) -> None:
    """OSS Spark has no privileges: its parser knows GRANT/REVOKE as commands it refuses (not a syntax
    error); their shape is checked against Unity Catalog's grammar here."""
    assert PRIVILEGE.fullmatch(sql), sql
    verb = sql.split()[0]
    with pytest.raises(Exception, match=f"INVALID_STATEMENT_OR_CLAUSE.*{verb} is not valid") as refused:
        parse(spark, sql)
    assert "PARSE_SYNTAX_ERROR" not in str(refused.value)


def the_readers(seeded: Engine) -> list[Principal]:
    """One demo-data user per role (the first by id), as the gateway would bind them."""
    users = tables.users
    with seeded.connect() as connection:
        found = connection.execute(select(users).where(users.c.active).order_by(users.c.id)).mappings().all()
    readers = []
    for role in Role:
        row = next(row for row in found if role.value in row["roles"].split(","))
        roles = frozenset(Role(name) for name in row["roles"].split(",") if name)
        readers.append(Principal(user_id=row["id"], sub=row["sub"], email=row["email"],
                                 name=row["display_name"], roles=roles, region=row["region"]))
    return readers


def as_reader(view_sql: str, reader: Principal) -> str:
    """The view's SELECT over the Spark copies, with the Unity Catalog functions stood in for `reader`."""
    select_sql = view_sql.split(" AS\n", 1)[1].replace(BASE, "")
    groups = {group for group, role in DEFAULT_ROLE_MAP.items() if Role(role) in reader.roles}
    email = reader.email.replace("'", "''")
    select_sql = select_sql.replace("current_user()", f"'{email}'")
    return MEMBER.sub(lambda match: "true" if match.group(1) in groups else "false", select_sql)


def gateway_rows(seeded: Engine, view: governance.View, reader: Principal) -> list[tuple[Any, ...]]:
    """What the gateway's own rules let `reader` see of the view's table, on SQLite."""
    table: Table = view.table
    deals = tables.deals
    columns = [column for column in table.columns if column.name not in view.left_out]
    own = {tables.users.name: rows.visible_users, tables.advertisers.name: rows.visible_reference,
           tables.agencies.name: rows.visible_reference, deals.name: rows.visible_deals,
           tables.deal_scoping_requests.name: rows.visible_scoping_requests}
    if table.name in own:
        query = select(*columns).where(own[table.name](reader))
    else:
        query = (select(*columns).join(deals, deals.c.id == table.c.deal_id)
                 .where(rows.visible_deals(reader)).add_columns(deals.c.owner_id.label("deal_owner")))
    margins = CanSeeMargins.rule.allows(reader.roles, reader.user_id, owner_id=None)
    out = []
    with seeded.connect() as connection:
        for row in connection.execute(query).mappings():
            if table is tables.incentive_values and not may_read(reader, "incentives",
                                                                 owner_id=row["deal_owner"]):
                continue  # the Deal.incentives permission: no incentives for this reader
            values = [None if column.name in view.masked and not margins else row[column.name]
                      for column in columns]
            out.append(tuple(warehouse_value(value) for value in values))
    return out


def test_the_margin_rule_is_the_one_the_views_mask_with() -> None:
    assert {rule for view in governance.VIEWS for rule in view.masked.values()} == {CanSeeMargins.rule}
    assert [view.deal_field for view in governance.VIEWS if view.deal_field] == [CanSeeIncentives.rule]


@pytest.mark.parametrize("role", list(Role), ids=lambda role: role.value)
def test_each_view_answers_each_role_as_the_gateway_does(
        spark: Any, spark_tables: None, seeded: Engine, role: Role) -> None:
    spark.sql(governance.user_access_source("users")).createOrReplaceTempView(governance.USER_ACCESS)
    reader = the_readers(seeded)[list(Role).index(role)]
    views = {sql.split()[4].split(".")[-1].strip("`"): sql for sql in SQL
             if sql.startswith("CREATE OR REPLACE VIEW")}
    seen: dict[str, list[tuple[Any, ...]]] = {}
    for view in governance.VIEWS:
        expected = gateway_rows(seeded, view, reader)
        answered = [tuple(row) for row in spark.sql(as_reader(views[view.table.name], reader)).collect()]
        assert_same_rows(expected, answered)
        seen[view.table.name] = answered
    # Not vacuous: the rules cut something for some roles and nothing for others.
    with seeded.connect() as connection:
        all_deals = len(connection.execute(select(tables.deals.c.id)).all())
    margins = [row[11] for row in seen["deals"]]
    assert seen["deals"] and seen["users"]
    if role in (Role.SELLER, Role.LEGAL):
        assert all(margin is None for margin in margins)
    else:
        assert any(margin is not None for margin in margins)
    assert (len(seen["deals"]) == all_deals) == (role not in (Role.SELLER, Role.SALES_MANAGER))
    if role is Role.LEGAL:
        assert not seen["incentive_values"] and seen["deal_tiers"]


def test_the_merge_a_user_change_sends_parses(spark: Any, warehouse: tuple[Engine, FakeWarehouse]) -> None:
    engine, fake = warehouse
    with engine.connect() as connection:
        connection.execute(governance.user_access_merge(["u-1", "u-2"]))
    sql, params = fake.statements[-1]
    assert sql.startswith("MERGE INTO user_access") and set((params or {}).values()) == {"u-1", "u-2"}
    parse(spark, sql)


DEALS_PAGE = """query($after: String) { deals(first: 500, after: $after) {
  pageInfo { hasNextPage endCursor }
  edges { node { id targetMarginPct floorCpm tiers { id marginPct } incentives { id } } } } }"""


@pytest.fixture(scope="module")
def gateway_store(seeded: Engine, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A copy of the seeded store for the gateway to sign readers in on (the spark tier's stays untouched)."""
    import sqlite3

    path = tmp_path_factory.mktemp("gateway-store") / "deal_desk.db"
    with sqlite3.connect(str(seeded.url.database)) as source, sqlite3.connect(path) as target:
        source.backup(target)
    return f"sqlite:///{path}"


async def gateway_deals(url: str, key_folder: Path, reader: Principal) -> dict[str, dict[str, Any]]:
    """Every deal the real gateway answers `reader` over HTTP, by id, with its restricted fields."""
    settings = Settings(database_url=url, dev_key_file=str(key_folder / "dev-key.json"),  # type: ignore[call-arg]
                        query_max_cost=10**9, rate_limit_per_s=0, migrate_on_start=False, _env_file=None)
    app = create_app(settings)
    deals: dict[str, dict[str, Any]] = {}
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw.test") as client:
            gateway = Gateway(app, client, settings)
            token = gateway.token(reader.email, *(role.value for role in reader.roles), region=reader.region)
            after = None
            while True:
                page = (await gateway.query(DEALS_PAGE, {"after": after}, token=token))["data"]["deals"]
                deals.update({edge["node"]["id"]: edge["node"] for edge in page["edges"]})
                if not page["pageInfo"]["hasNextPage"]:
                    return deals
                after = page["pageInfo"]["endCursor"]
    finally:
        app.state.db.dispose()


def decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


@pytest.mark.parametrize("role", [Role.SELLER, Role.SALES_MANAGER, Role.LEGAL, Role.ANALYST],
                         ids=lambda role: role.value)
async def test_the_deal_views_answer_as_the_gateway_does_over_http(
        spark: Any, spark_tables: None, seeded: Engine, gateway_store: str, tmp_path: Path,
        role: Role) -> None:
    """The deals, tiers and incentives views against the gateway's own GraphQL answers to the same user."""
    spark.sql(governance.user_access_source("users")).createOrReplaceTempView(governance.USER_ACCESS)
    reader = the_readers(seeded)[list(Role).index(role)]
    views = {sql.split()[4].split(".")[-1].strip("`"): sql for sql in SQL
             if sql.startswith("CREATE OR REPLACE VIEW")}

    def view(name: str, *columns: str) -> list[Any]:
        rows = spark.sql(as_reader(views[name], reader)).collect()
        return [tuple(row[column] for column in columns) for row in rows]

    answered = await gateway_deals(gateway_store, tmp_path, reader)
    assert answered
    viewed = {deal_id: (decimal(margin), decimal(floor))
              for deal_id, margin, floor in view("deals", "id", "target_margin_pct", "floor_cpm")}
    assert viewed == {deal_id: (decimal(deal["targetMarginPct"]), decimal(deal["floorCpm"]))
                      for deal_id, deal in answered.items()}
    tiers = {tier_id: decimal(margin) for tier_id, margin in view("deal_tiers", "id", "margin_pct")}
    assert tiers == {tier["id"]: decimal(tier["marginPct"])
                     for deal in answered.values() for tier in deal["tiers"]}
    incentives = {incentive_id for (incentive_id,) in view("incentive_values", "id")}
    assert incentives == {incentive["id"] for deal in answered.values()
                          for incentive in deal["incentives"] or []}
    if role in (Role.SELLER, Role.LEGAL):
        assert all(margin is None for margin, _ in viewed.values())
