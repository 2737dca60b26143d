"""Data access for the rows that hang off a deal: tiers, incentives, history, approvals, actions.

Callers pass ids of deals (or approvals) already read through the row rules, so these
reads need no rule of their own. Rows that name a user carry it joined, labelled `user__<col>`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, Connection, Row, Select, Table, select

from gateway.store import query
from gateway.store.tables import (
    approval_actions,
    deal_approvals,
    deal_status_history,
    deal_tiers,
    incentive_values,
    users,
)


def with_user(table: Table, user_column: Column[Any], *, outer: bool = False) -> Select[Any]:
    """`table` joined with the user named by `user_column`."""
    labelled = [column.label(f"user__{column.name}") for column in users.c]
    joined = table.join(users, users.c.id == user_column, isouter=outer)
    return select(table, *labelled).select_from(joined)


def tiers(connection: Connection, *, deal_ids: Sequence[str]) -> list[Row[Any]]:
    """Tiers of the deals, in tier order."""
    stmt = select(deal_tiers).where(deal_tiers.c.deal_id.in_(deal_ids))
    return query.rows(connection, stmt.order_by(deal_tiers.c.deal_id, deal_tiers.c.tier_number))


def incentives(connection: Connection, *, deal_ids: Sequence[str]) -> list[Row[Any]]:
    """Incentives of the deals, in the order they were given."""
    stmt = select(incentive_values).where(incentive_values.c.deal_id.in_(deal_ids))
    return query.rows(connection, stmt.order_by(incentive_values.c.deal_id, incentive_values.c.position))


def history(connection: Connection, *, deal_ids: Sequence[str]) -> list[Row[Any]]:
    """Status changes of the deals, oldest first, with who made them."""
    h = deal_status_history
    stmt = with_user(h, h.c.changed_by).where(h.c.deal_id.in_(deal_ids))
    return query.rows(connection, stmt.order_by(h.c.deal_id, h.c.changed_at, h.c.id))


def approvals(connection: Connection, *, deal_ids: Sequence[str]) -> list[Row[Any]]:
    """Every approval row of the deals, every round, in order, with who decided."""
    a = deal_approvals
    stmt = with_user(a, a.c.decided_by, outer=True).where(a.c.deal_id.in_(deal_ids))
    return query.rows(connection, stmt.order_by(a.c.deal_id, a.c.round, a.c.sequence))


def actions(connection: Connection, *, approval_ids: Sequence[str]) -> list[Row[Any]]:
    """Decisions and comments on the approvals, oldest first, with their actors."""
    a = approval_actions
    stmt = with_user(a, a.c.actor_id).where(a.c.approval_id.in_(approval_ids))
    return query.rows(connection, stmt.order_by(a.c.approval_id, a.c.created_at, a.c.id))


def deal_actions(connection: Connection, *, deal_ids: Sequence[str]) -> list[Row[Any]]:
    """Decisions and comments on every approval of the deals, oldest first per approval, with actors."""
    a = approval_actions
    stmt = with_user(a, a.c.actor_id).where(a.c.deal_id.in_(deal_ids))
    return query.rows(connection, stmt.order_by(a.c.approval_id, a.c.created_at, a.c.id))
