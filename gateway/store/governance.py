"""Unity Catalog governance for analysts: `user_access`, one governed view per core table, the grants.

The views apply the gateway's own rules (auth/rules.py) to whoever queries them: the rules are rendered
for a `Reader`, whose roles are `is_account_group_member(<the role's groups>)` and whose user id and
region come from `user_access` (kept from the gateway's users rows) matched on `current_user()`.
Identifiers are checked (`plain_name`, `principal_name`) and quoted with backticks; every other value
is a literal rendered by the Databricks dialect.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    FromClause,
    MetaData,
    Select,
    String,
    Table,
    TextClause,
    bindparam,
    case,
    exists,
    false,
    func,
    literal,
    literal_column,
    or_,
    quoted_name,
    select,
    text,
)
from sqlalchemy.engine import Dialect

from auth import rules
from gateway.core import tables
from gateway.core.roles import Role

PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,254}")
USER_ACCESS = "user_access"

user_access = Table(
    USER_ACCESS, MetaData(),
    Column("user_id", String(36), primary_key=True),
    Column("email", String(320), nullable=False),  # lower case, as matched on lower(current_user())
    Column("roles", String(200), nullable=False),
    Column("region", String(32)),
)
"""Databricks only: who each gateway user is to the governed views (active users; roles for reference)."""


class GovernanceError(ValueError):
    """The governance SQL cannot be made or run; `code` says why, the message never carries SQL."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def plain_name(value: str, what: str) -> str:
    """`value` when it is a plain identifier (letters, digits, underscore), else BAD_NAME."""
    if not PLAIN_NAME.fullmatch(value):
        raise GovernanceError("BAD_NAME", f"{what} must be a plain name (letters, digits, _): {value!r}")
    return value


def principal_name(value: str, what: str) -> str:
    """A group or principal name (e-mails, hyphens and spaces allowed), else BAD_NAME: no backtick,
    quote, backslash or control character, so it is always one backtick-quoted identifier."""
    if not value.strip() or any(ch in value for ch in "`'\"\\") or any(ord(ch) < 32 for ch in value):
        raise GovernanceError("BAD_NAME", f"{what} is not a usable principal name: {value!r}")
    return value


def quote(*parts: str) -> str:
    """Backtick-quoted, dot-joined parts (each already checked)."""
    return ".".join(f"`{part}`" for part in parts)


@dataclass(frozen=True)
class Reader:
    """Whoever queries a governed view, as a rules.Subject."""

    groups: Mapping[Role, tuple[str, ...]]  # the identity-provider groups that give each role
    access: FromClause  # user_access
    # current_user() as Databricks spells it (SQLAlchemy's func.current_user renders the bare ANSI keyword).
    me: ColumnElement[str] = field(default_factory=lambda: func.lower(literal_column("current_user()")))

    def holds(self, roles: frozenset[Role]) -> ColumnElement[bool]:
        """Membership of any group giving one of `roles`."""
        members = [func.is_account_group_member(literal(group, String()))
                   for role in sorted(roles, key=list(Role).index) for group in self.groups.get(role, ())]
        return or_(false(), *members) if members else false()

    def _mine(self, column: str) -> Select[tuple[str]]:
        return select(self.access.c[column]).where(self.access.c.email == self.me)

    def is_user(self, column: ColumnElement[str]) -> ColumnElement[bool]:
        """`column` is one of the reader's user ids."""
        return column.in_(self._mine("user_id"))

    def in_region(self, column: ColumnElement[str | None]) -> ColumnElement[bool]:
        """`column` is the reader's region (NULL regions never match)."""
        return column.in_(self._mine("region"))


@dataclass(frozen=True)
class View:
    """How one core table is shown to analysts."""

    table: Table
    rows: rules.RowRule | None = None  # the table's own row rule
    through_deal: str | None = None  # a deal's child: visible with its deal (by this column)
    deal_field: rules.FieldRule | None = None  # rows shown only when it allows (owner: the deal's)
    masked: Mapping[str, rules.FieldRule] = field(default_factory=dict)  # column -> rule, NULL otherwise
    left_out: frozenset[str] = frozenset()  # bookkeeping columns


VIEWS: tuple[View, ...] = (
    View(tables.users, rows=rules.USERS, left_out=frozenset({"sub"})),
    View(tables.advertisers, rows=rules.REFERENCE),
    View(tables.agencies, rows=rules.REFERENCE),
    View(tables.deals, rows=rules.DEALS,
         masked={"target_margin_pct": rules.MARGINS, "floor_cpm": rules.MARGINS},
         left_out=frozenset({"last_operation_id"})),
    View(tables.deal_tiers, through_deal="deal_id", masked={"margin_pct": rules.MARGINS}),
    View(tables.incentive_values, through_deal="deal_id", deal_field=rules.INCENTIVES),
    View(tables.deal_approvals, through_deal="deal_id", left_out=frozenset({"terms_digest"})),
    View(tables.approval_actions, through_deal="deal_id"),
    View(tables.deal_status_history, through_deal="deal_id"),
    View(tables.deal_scoping_requests, rows=rules.SCOPING_REQUESTS),
)
"""One governed view per core table. Gateway-internal rules (auth.rows.decidable_approvals) get none."""

GATEWAY_ONLY_RULES = frozenset({"decidable_approvals"})


@dataclass(frozen=True)
class Names:
    """Where things live and who gets what; every part checked."""

    catalog: str
    schema: str  # the gateway's: base tables and user_access
    analytics: str  # the views
    analysts: str  # the analysts' group
    gateway_principal: str | None = None

    def __post_init__(self) -> None:
        plain_name(self.catalog, "the catalog")
        plain_name(self.schema, "the schema")
        plain_name(self.analytics, "DEAL_DESK_DATABRICKS_ANALYTICS_SCHEMA")
        principal_name(self.analysts, "DEAL_DESK_DATABRICKS_ANALYSTS_GROUP")
        if self.gateway_principal is not None:
            principal_name(self.gateway_principal, "DEAL_DESK_DATABRICKS_GATEWAY_PRINCIPAL")


def role_groups(role_map: Mapping[str, str]) -> dict[Role, tuple[str, ...]]:
    """The groups giving each role (DEAL_DESK_AUTH_ROLE_MAP read backwards), each name checked."""
    groups: dict[Role, list[str]] = {}
    for group, role in sorted(role_map.items()):
        groups.setdefault(Role(role), []).append(principal_name(group, "a DEAL_DESK_AUTH_ROLE_MAP group"))
    return {role: tuple(names) for role, names in groups.items()}


def _in(table: Table, prefix: str | None) -> Table:
    """`table` named in the schema `prefix` (already quoted), or unqualified."""
    if prefix is None:
        return table
    return table.to_metadata(MetaData(), schema=quoted_name(prefix, quote=False))


def view_select(view: View, groups: Mapping[Role, tuple[str, ...]], *,
                source: str | None) -> Select[tuple[object, ...]]:
    """The SELECT of `view` over the base tables in `source` (a quoted schema, or None: unqualified)."""
    base = _in(view.table, source).alias("t")
    deals = _in(tables.deals, source).alias("d")
    access = _in(user_access, source).alias("ua")
    reader = Reader(groups, access)
    owner = base.c.owner_id if "owner_id" in base.c else None
    columns = [
        case((view.masked[column.name].condition(reader, owner), column)).label(column.name)
        if column.name in view.masked else column
        for column in base.c if column.name not in view.left_out
    ]
    query = select(*columns).select_from(base)
    if view.rows is not None:
        query = query.where(view.rows.condition(reader, base))
    if view.through_deal is not None:
        visible = [deals.c.id == base.c[view.through_deal], rules.DEALS.condition(reader, deals)]
        if view.deal_field is not None:
            visible.append(view.deal_field.condition(reader, deals.c.owner_id))
        query = query.where(exists().where(*visible))
    return query


def _render(query: Select[tuple[object, ...]], dialect: Dialect) -> str:
    return str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


def user_access_source(users: str) -> str:
    """What user_access holds, read from the users table named `users` (quoted): its active users."""
    return f"SELECT id AS user_id, lower(email) AS email, roles, region FROM {users} WHERE active"


def user_access_merge(user_ids: Sequence[str]) -> TextClause:
    """One MERGE that brings the user_access rows of `user_ids` in step with their users rows (same schema):
    an active user's row written, an inactive one's removed."""
    return text(
        "MERGE INTO user_access AS target USING (SELECT id AS user_id, lower(email) AS email, roles, region, "
        "active FROM users WHERE id IN :user_ids) AS source ON target.user_id = source.user_id "
        "WHEN MATCHED AND NOT source.active THEN DELETE "
        "WHEN MATCHED THEN UPDATE SET email = source.email, roles = source.roles, region = source.region "
        "WHEN NOT MATCHED AND source.active THEN INSERT (user_id, email, roles, region) "
        "VALUES (source.user_id, source.email, source.roles, source.region)"
    ).bindparams(bindparam("user_ids", value=list(user_ids), expanding=True))


def user_access_statements(catalog: str, schema: str) -> list[str]:
    """Create `user_access` if missing, then make it hold exactly the active users (one MERGE)."""
    target = quote(catalog, schema, USER_ACCESS)
    source = user_access_source(quote(catalog, schema, tables.users.name))
    return [
        f"CREATE TABLE IF NOT EXISTS {target} (user_id STRING NOT NULL, email STRING NOT NULL, "
        "roles STRING NOT NULL, region STRING) USING DELTA "
        "COMMENT 'Deal Desk users to the governed views: kept by the gateway from its users rows'",
        f"MERGE INTO {target} AS target USING ({source}) AS source ON target.user_id = source.user_id "
        "WHEN MATCHED AND NOT (target.email <=> source.email AND target.roles <=> source.roles "
        "AND target.region <=> source.region) THEN UPDATE SET email = source.email, roles = source.roles, "
        "region = source.region "
        "WHEN NOT MATCHED THEN INSERT (user_id, email, roles, region) "
        "VALUES (source.user_id, source.email, source.roles, source.region) "
        "WHEN NOT MATCHED BY SOURCE THEN DELETE",
    ]


def view_statements(names: Names, groups: Mapping[Role, tuple[str, ...]], dialect: Dialect) -> list[str]:
    """CREATE OR REPLACE VIEW of every governed view, in the analytics schema."""
    source = quote(names.catalog, names.schema)
    return [
        f"CREATE OR REPLACE VIEW {quote(names.catalog, names.analytics, view.table.name)} "
        f"COMMENT 'Deal Desk {view.table.name} under the gateway''s row and field rules' AS\n"
        + _render(view_select(view, groups, source=source), dialect)
        for view in VIEWS
    ]


def grant_statements(names: Names) -> list[str]:
    """Analysts: USE and SELECT on the views, nothing on the base tables; the gateway keeps its own."""
    analysts = quote(names.analysts)
    base = [table.name for table in tables.metadata.sorted_tables] + [USER_ACCESS]
    statements = [
        f"GRANT USE CATALOG ON CATALOG {quote(names.catalog)} TO {analysts}",
        f"GRANT USE SCHEMA ON SCHEMA {quote(names.catalog, names.analytics)} TO {analysts}",
        *(f"GRANT SELECT ON TABLE {quote(names.catalog, names.analytics, view.table.name)} TO {analysts}"
          for view in VIEWS),
        f"REVOKE ALL PRIVILEGES ON SCHEMA {quote(names.catalog, names.schema)} FROM {analysts}",
        *(f"REVOKE ALL PRIVILEGES ON TABLE {quote(names.catalog, names.schema, name)} FROM {analysts}"
          for name in base),
    ]
    if names.gateway_principal is not None:  # docs/databricks.md, Grants: what the runtime principal needs
        gateway = quote(names.gateway_principal)
        statements += [
            f"GRANT USE CATALOG ON CATALOG {quote(names.catalog)} TO {gateway}",
            f"GRANT USE SCHEMA, SELECT, MODIFY ON SCHEMA {quote(names.catalog, names.schema)} TO {gateway}",
        ]
    return statements


def governance_statements(names: Names, groups: Mapping[Role, tuple[str, ...]],
                          dialect: Dialect) -> list[str]:
    """Everything `deal-desk databricks governance` prints or runs, in order."""
    return [
        f"CREATE SCHEMA IF NOT EXISTS {quote(names.catalog, names.analytics)}",
        *user_access_statements(names.catalog, names.schema),
        *view_statements(names, groups, dialect),
        *grant_statements(names),
    ]


def gateway_schema(connection: Connection) -> tuple[str, str]:
    """The catalog and schema of the store `connection` is on (its databricks:// URL), both checked."""
    query = connection.engine.url.query
    return (plain_name(str(query.get("catalog") or ""), "the URL's catalog"),
            plain_name(str(query.get("schema") or ""), "the URL's schema"))


def sync_user_access(connection: Connection) -> None:
    """Databricks: create `user_access` if missing and bring it in step with the users rows; else nothing."""
    if connection.dialect.name != "databricks":
        return
    catalog, schema = gateway_schema(connection)
    for statement in user_access_statements(catalog, schema):
        connection.exec_driver_sql(statement)
