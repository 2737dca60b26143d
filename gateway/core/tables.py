"""The ten core tables of PRODUCT.md, as SQLAlchemy Core metadata shared by every store."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect

from gateway.core.columns import Hours, Money, Quantile, Rate, UtcDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)

DEAL_STATUSES = (
    "DRAFT", "PENDING_APPROVAL", "CHANGES_REQUESTED", "APPROVED",
    "REJECTED", "WITHDRAWN", "CLOSED_WON", "CLOSED_LOST",
)
DEAL_TYPES = ("PROGRAMMATIC_GUARANTEED", "PREFERRED_DEAL", "PRIVATE_MARKETPLACE", "MANAGED_SERVICE")
STAGES = ("SALES_MANAGER", "DEAL_DESK", "FINANCE", "LEGAL", "EXECUTIVE")
APPROVAL_STATUSES = ("WAITING", "PENDING", "APPROVED", "REJECTED", "CHANGES_REQUESTED", "CANCELLED")
ACTION_TYPES = ("APPROVE", "REJECT", "REQUEST_CHANGES", "COMMENT", "CARRIED_OVER", "ESCALATED")
ACTION_CHANNELS = ("API", "SLACK", "SYSTEM")
NOTIFICATION_STATUSES = ("PENDING", "SENT", "FAILED")
INCENTIVE_TYPES = ("AGENCY_REBATE", "VOLUME_BONUS", "ADDED_VALUE", "MAKEGOOD", "OTHER")
INCENTIVE_UNITS = ("PERCENT", "AMOUNT", "IMPRESSIONS")
SCOPING_STATUSES = ("OPEN", "IN_REVIEW", "QUALIFIED", "DECLINED", "CONVERTED")


def one_of(column: str, values: Iterable[str], name: str) -> CheckConstraint:
    """A CHECK that `column` holds one of `values`."""
    listed = ", ".join(f"'{value}'" for value in values)
    return CheckConstraint(f"{column} IN ({listed})", name=name)


def percent_checks(column: str) -> list[CheckConstraint]:
    """0 <= column <= 100, written for the store's representation (scaled integers on SQLite)."""
    sqlite_max = 100 * 10**4  # Rate() keeps 4 decimal places as a scaled integer there
    return [
        CheckConstraint(f"{column} IS NULL OR ({column} >= 0 AND {column} <= 100)",
                        name=f"{column}_percent").ddl_if(callable_=_not_sqlite),
        CheckConstraint(f"{column} IS NULL OR ({column} >= 0 AND {column} <= {sqlite_max})",
                        name=f"{column}_percent_scaled").ddl_if(dialect="sqlite"),
    ]


def _not_sqlite(ddl: Any, target: Any, bind: Any, tables: Any = None, state: Any = None, *,
                dialect: Dialect, compiler: Any = None, checkfirst: bool = False) -> bool:
    return dialect.name != "sqlite"


def _not_databricks(ddl: Any, target: Any, bind: Any, tables: Any = None, state: Any = None, *,
                    dialect: Dialect, compiler: Any = None, checkfirst: bool = False) -> bool:
    return dialect.name != "databricks"


def uuid_pk() -> Column[str]:
    """A client-generated UUIDv7 primary key, as text on every store."""
    return Column("id", String(36), primary_key=True)


def timestamps() -> list[Column[object]]:
    """created_at and updated_at, UTC."""
    return [
        Column("created_at", UtcDateTime(), nullable=False),
        Column("updated_at", UtcDateTime(), nullable=False),
    ]


def _own_step(context: Any) -> int:
    step: int = context.get_current_parameters()["sequence"]
    return step


def fk(column: str, target: str, *, nullable: bool = False) -> Column[str]:
    """A UUID foreign-key column."""
    return Column(column, String(36), ForeignKey(target), nullable=nullable)


users = Table(
    "users", metadata,
    uuid_pk(),
    Column("sub", String(255), nullable=False, unique=True),
    Column("email", String(320), nullable=False),
    Column("display_name", String(200), nullable=False),
    Column("region", String(32)),
    Column("roles", String(200), nullable=False),
    Column("active", Boolean(create_constraint=False), nullable=False),
    *timestamps(),
    # When the gateway last saw the user's token (to the hour): `roles` are their last-seen roles then.
    Column("last_seen_at", UtcDateTime()),
    Index(None, "email"),
)

advertisers = Table(
    "advertisers", metadata,
    uuid_pk(),
    Column("name", String(200), nullable=False),
    Column("industry", String(100)),
    Column("region", String(32)),
    *timestamps(),
    Index(None, "name", "id"),
)

agencies = Table(
    "agencies", metadata,
    uuid_pk(),
    Column("name", String(200), nullable=False),
    Column("holding_company", String(200)),
    Column("region", String(32)),
    *timestamps(),
    Index(None, "name", "id"),
)

deals = Table(
    "deals", metadata,
    uuid_pk(),
    Column("deal_number", String(20), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("status", String(20), nullable=False),
    Column("deal_type", String(32), nullable=False),
    Column("channels", String(100), nullable=False),
    Column("region", String(32), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("total_value", Money(), nullable=False),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=False),
    Column("target_margin_pct", Rate()),
    Column("floor_cpm", Rate()),
    Column("non_standard_terms", Text),
    Column("notes", Text),
    Column("version", Integer, nullable=False),
    fk("owner_id", "users.id"),
    fk("advertiser_id", "advertisers.id"),
    fk("agency_id", "agencies.id", nullable=True),
    *timestamps(),
    Column("submitted_at", UtcDateTime()),
    # The write operation that last changed the row, where writes are journaled (gateway/store/journal.py).
    Column("last_operation_id", String(36)),
    one_of("status", DEAL_STATUSES, "status"),
    one_of("deal_type", DEAL_TYPES, "deal_type"),
    CheckConstraint("total_value > 0", name="total_value_positive"),
    CheckConstraint("end_date > start_date", name="dates_ordered"),
    CheckConstraint("version >= 1", name="version_positive"),
    *percent_checks("target_margin_pct"),
    Index(None, "created_at", "id"),
    Index(None, "updated_at", "id"),
    Index(None, "total_value", "id"),
    Index(None, "start_date", "id"),
    Index(None, "name", "id"),
    Index(None, "owner_id", "created_at"),
    Index(None, "advertiser_id", "created_at"),
    Index(None, "agency_id", "created_at"),
    Index(None, "region", "created_at"),
    Index(None, "status", "created_at"),
    # Pricing guidance's similar deals: the won deals of a type nearest in value (store/pricing.py).
    Index(None, "status", "deal_type", "total_value"),
)

deal_tiers = Table(
    "deal_tiers", metadata,
    uuid_pk(),
    fk("deal_id", "deals.id"),
    Column("tier_number", Integer, nullable=False),
    Column("min_spend", Money(), nullable=False),
    Column("max_spend", Money()),
    Column("cpm", Rate(), nullable=False),
    Column("margin_pct", Rate()),
    UniqueConstraint("deal_id", "tier_number"),
    CheckConstraint("min_spend >= 0", name="min_spend_not_negative"),
    CheckConstraint("max_spend IS NULL OR max_spend > min_spend", name="spend_ordered"),
    CheckConstraint("cpm > 0", name="cpm_positive"),
    *percent_checks("margin_pct"),
)

incentive_values = Table(
    "incentive_values", metadata,
    uuid_pk(),
    fk("deal_id", "deals.id"),
    Column("position", Integer, nullable=False),
    Column("type", String(20), nullable=False),
    Column("unit", String(20), nullable=False),
    Column("value", Rate(), nullable=False),
    Column("description", String(500)),
    Column("created_at", UtcDateTime(), nullable=False),
    one_of("type", INCENTIVE_TYPES, "type"),
    one_of("unit", INCENTIVE_UNITS, "unit"),
    CheckConstraint("value > 0", name="value_positive"),
    Index(None, "deal_id", "position"),
)

deal_approvals = Table(
    "deal_approvals", metadata,
    uuid_pk(),
    fk("deal_id", "deals.id"),
    Column("round", Integer, nullable=False),
    Column("stage", String(20), nullable=False),
    Column("sequence", Integer, nullable=False),
    # Stages of one step are PENDING together; a row inserted without one has its own step, its sequence.
    Column("step", Integer, nullable=False, default=_own_step),
    Column("status", String(20), nullable=False),
    Column("activated_at", UtcDateTime()),
    Column("due_at", UtcDateTime()),
    fk("decided_by", "users.id", nullable=True),
    Column("decided_at", UtcDateTime()),
    Column("created_at", UtcDateTime(), nullable=False),
    # The stage's service level, from its rule at submission: due_at = activated_at + due_hours.
    Column("due_hours", Hours()),
    Column("remind_before_hours", Hours()),
    Column("escalate_to", String(20)),
    # Smart re-approval: a digest per watched Deal field at submission, and the approval carried over.
    Column("terms_digest", Text),
    fk("carried_over_from", "deal_approvals.id", nullable=True),
    # Reminders and escalation (gateway/notify/scheduler.py): each once per stage.
    Column("reminded_at", UtcDateTime()),
    Column("escalated_at", UtcDateTime()),
    one_of("stage", STAGES, "stage"),
    one_of("status", APPROVAL_STATUSES, "status"),
    UniqueConstraint("deal_id", "round", "sequence"),
    Index(None, "status", "stage", "activated_at"),
    Index(None, "stage", "decided_at"),
)

approval_actions = Table(
    "approval_actions", metadata,
    uuid_pk(),
    fk("approval_id", "deal_approvals.id"),
    fk("deal_id", "deals.id"),
    Column("action", String(20), nullable=False),
    fk("actor_id", "users.id"),
    Column("comment", Text),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("via", String(10)),  # ACTION_CHANNELS; rows from before migration 8 have none: API
    one_of("action", ACTION_TYPES, "action"),
    Index(None, "approval_id", "created_at"),
    Index(None, "deal_id"),
)

deal_status_history = Table(
    "deal_status_history", metadata,
    uuid_pk(),
    fk("deal_id", "deals.id"),
    Column("from_status", String(20)),
    Column("to_status", String(20), nullable=False),
    fk("changed_by", "users.id"),
    Column("reason", Text),
    Column("changed_at", UtcDateTime(), nullable=False),
    one_of("to_status", DEAL_STATUSES, "to_status"),
    Index(None, "deal_id", "changed_at"),
)

deal_scoping_requests = Table(
    "deal_scoping_requests", metadata,
    uuid_pk(),
    Column("title", String(200), nullable=False),
    Column("objective", Text),
    Column("status", String(20), nullable=False),
    Column("estimated_budget", Money()),
    Column("currency", String(3), nullable=False),
    Column("desired_start", Date),
    Column("desired_end", Date),
    fk("requested_by", "users.id"),
    Column("region", String(32)),
    fk("advertiser_id", "advertisers.id"),
    fk("agency_id", "agencies.id", nullable=True),
    Column("converted_deal_id", String(36), ForeignKey("deals.id"), unique=True),
    *timestamps(),
    one_of("status", SCOPING_STATUSES, "status"),
    CheckConstraint("estimated_budget IS NULL OR estimated_budget > 0", name="budget_positive"),
    Index(None, "requested_by", "created_at"),
    Index(None, "region", "created_at"),
    Index(None, "status", "created_at"),
    Index(None, "created_at", "id"),
)

schema_version = Table(
    "schema_version", metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("description", String(200), nullable=False),
    Column("applied_at", UtcDateTime(), nullable=False),
)

CORE_TABLES = (
    users, advertisers, agencies, deals, deal_tiers, incentive_values,
    deal_approvals, approval_actions, deal_status_history, deal_scoping_requests,
)

audit_log = Table(
    "audit_log", metadata,
    uuid_pk(),
    Column("operation_id", String(36), nullable=False),
    Column("occurred_at", UtcDateTime(), nullable=False),
    Column("actor_user_id", String(36), nullable=False),
    Column("actor_sub", String(255), nullable=False),
    Column("table_name", String(64), nullable=False),
    Column("row_id", String(36), nullable=False),
    Column("operation", String(10), nullable=False),
    Column("before_json", Text),
    Column("after_json", Text),
    Column("request_id", String(64)),
    Column("idempotency_key", String(255)),
    Column("reason", Text),
    one_of("operation", ("INSERT", "UPDATE", "DELETE"), "operation"),
    Index(None, "table_name", "row_id", "occurred_at"),
    Index(None, "operation_id"),
    Index(None, "occurred_at"),
)
"""Append-only on every store: triggers on SQLite and PostgreSQL, `delta.appendOnly` on Databricks."""

idempotency_keys = Table(
    "idempotency_keys", metadata,
    Column("caller_sub", String(255), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("status", String(12), nullable=False),
    Column("response_status", Integer),
    Column("response_body", Text),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    one_of("status", ("IN_PROGRESS", "DONE"), "status"),
    Index(None, "expires_at"),
)

persisted_queries = Table(
    "persisted_queries", metadata,
    Column("sha256", String(64), primary_key=True),  # hex SHA-256 of the document: Apollo's APQ hash
    Column("document", Text, nullable=False),
    Column("stored_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Index(None, "expires_at"),
)
"""Automatic persisted queries (Apollo's protocol), shared by every worker and replica of the store."""

deal_number_counters = Table(
    "deal_number_counters", metadata,
    Column("year", Integer, primary_key=True, autoincrement=False),
    Column("last_value", Integer, nullable=False),
)

write_operations = Table(
    "write_operations", metadata,
    Column("operation_id", String(36), primary_key=True),
    Column("state", String(10), primary_key=True),
    Column("recorded_at", UtcDateTime(), nullable=False),
    Column("anchor_audit_id", String(36)),
    # On the PENDING row of a request that holds an Idempotency-Key (gateway/store/claims.py): its claim
    # token, which write of the request this is, and what that write returned, to replay it after a crash.
    Column("claim", String(64)),
    Column("claim_step", String(255)),
    Column("result_json", Text),
    one_of("state", ("PENDING", "COMMITTED", "ABORTED"), "state"),
    Index(None, "recorded_at"),
)
"""Journaled writes (stores without transactions): PENDING before the first change, then how it ended."""

notifications = Table(
    "notifications", metadata,
    uuid_pk(),
    Column("channel", String(16), nullable=False),  # slack, webhook
    Column("kind", String(32), nullable=False),
    Column("recipient", String(36)),  # a users row (slack); none for a webhook
    Column("payload", Text, nullable=False),  # JSON
    Column("status", String(10), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UtcDateTime(), nullable=False),
    Column("lease_owner", String(36)),
    Column("lease_until", UtcDateTime()),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("sent_at", UtcDateTime()),
    Column("last_error", String(64)),  # an error code, never a message
    one_of("status", NOTIFICATION_STATUSES, "status"),
    Index(None, "status", "next_attempt_at"),
)
"""The outbox: each row written with the change that causes it, delivered by gateway/notify's dispatcher."""

WORKFLOW_TABLES = (audit_log, idempotency_keys, deal_number_counters)


pricing_segments = Table(
    "pricing_segments", metadata,
    # 0 = deal type, main channel, region, value band; each level drops one (band, channel, region).
    Column("level", Integer, primary_key=True, autoincrement=False),
    # "<deal type>|<channel>|<region>|<band>", '*' where the level dropped it. Level -1, key 'refresh':
    # the refresh's own row, whose refreshed_at is the clock the workers share (store/pricing.py).
    Column("segment_key", String(120), primary_key=True),
    Column("deal_type", String(32), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("region", String(32), nullable=False),
    Column("value_band", String(16), nullable=False),
    Column("decided_count", Integer, nullable=False),  # CLOSED_WON + CLOSED_LOST + REJECTED
    Column("won_count", Integer, nullable=False),
    Column("sample_size", Integer, nullable=False),  # CLOSED_WON deals with a first tier: the CPM sample
    Column("cpm_p25", Quantile()),
    Column("cpm_p50", Quantile()),
    Column("cpm_p75", Quantile()),
    Column("margin_count", Integer, nullable=False),  # of the sample, those with a target margin
    Column("margin_p25", Quantile()),
    Column("margin_p50", Quantile()),
    Column("margin_p75", Quantile()),
    Column("win_rate", Double()),  # won / decided, shrunk toward the overall rate
    Column("refreshed_at", UtcDateTime(), nullable=False),
)
"""Pricing guidance per segment and level, rewritten by each refresh (PRODUCT.md, Pricing guidance)."""

# Databricks has no secondary indexes (Delta's data skipping does that work): create none there.
for _index in [index for table in metadata.tables.values() for index in table.indexes]:
    _index.ddl_if(callable_=_not_databricks)
