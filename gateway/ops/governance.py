"""`deal-desk databricks governance`: the governed views for analysts, printed or run on the warehouse."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import SQLAlchemyError

from gateway.core.roles import Role
from gateway.core.settings import Settings
from gateway.store import extra, governance
from gateway.store.governance import GovernanceError, Names


def names(settings: Settings) -> Names:
    """Where the views go and who gets them; NOT_DATABRICKS, BAD_NAME or NO_ANALYSTS_GROUP."""
    url = make_url(settings.database_url) if "://" in settings.database_url else None
    if url is None or url.get_backend_name() != "databricks":
        raise GovernanceError("NOT_DATABRICKS", "the store is not a databricks:// warehouse "
                                                "(DEAL_DESK_DATABASE_URL)")
    catalog = governance.plain_name(str(url.query.get("catalog") or ""), "the URL's catalog")
    schema = governance.plain_name(str(url.query.get("schema") or ""), "the URL's schema")
    analysts = settings.databricks_analysts_group
    if analysts is None:
        mapped = sorted(group for group, role in settings.auth_role_map.items() if role == Role.ANALYST.value)
        if len(mapped) != 1:
            raise GovernanceError("NO_ANALYSTS_GROUP", "set DEAL_DESK_DATABRICKS_ANALYSTS_GROUP: the "
                                  "role map (DEAL_DESK_AUTH_ROLE_MAP) has no single ANALYST group")
        [analysts] = mapped
    return Names(catalog=catalog, schema=schema,
                 analytics=settings.databricks_analytics_schema or f"{schema}_analytics",
                 analysts=analysts, gateway_principal=settings.databricks_gateway_principal)


def statements(settings: Settings, dialect: Dialect, *, sync_users_only: bool = False) -> list[str]:
    """The SQL of the command: everything, or (`sync_users_only`) the user_access refresh."""
    where = names(settings)
    if sync_users_only:
        return governance.user_access_statements(where.catalog, where.schema)
    return governance.governance_statements(where, governance.role_groups(settings.auth_role_map), dialect)


def dialect_of(settings: Settings) -> Dialect:
    """The Databricks dialect (databricks-sqlalchemy, the `databricks` extra), to render the SQL."""
    names(settings)
    extra.databricks("deal-desk databricks governance")  # ConfigError naming the extra when it is missing
    dialect: Dialect = make_url(settings.database_url).get_dialect()()
    return dialect


def apply(engine: Engine, sql: list[str]) -> None:
    """Run `sql` in order; the first statement the warehouse refuses stops it (WAREHOUSE_REFUSED)."""
    done = 0
    try:
        with engine.connect() as connection:
            for statement in sql:
                connection.exec_driver_sql(statement)
                done += 1
            connection.commit()
    except SQLAlchemyError as error:  # its message may quote the SQL: only its kind and which statement
        kind = type(getattr(error, "orig", None) or error).__name__
        words = " ".join(sql[min(done, len(sql) - 1)].split()[:4])
        raise GovernanceError("WAREHOUSE_REFUSED", f"the warehouse refused statement {done + 1} of "
                              f"{len(sql)} ({words} ...): {kind}") from None
