"""Data access for the rows that hang off a deal: tiers, incentives, history, approvals, actions.

Callers pass ids of deals (or approvals) already read through the row rules, so these
reads need no rule of their own. Rows that name a user carry it joined, labelled `user__<col>`.
Each lookup is one statement built at import, its ids bound at execution (`query.keys`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, Connection, Row, Select, Table, select

from gateway.core.tables import (
    approval_actions,
    deal_approvals,
    deal_status_history,
    deal_tiers,
    incentive_values,
    users,
)
from gateway.store import query


def with_user(table: Table, user_column: Column[Any], *, outer: bool = False) -> Select[Any]:
    """`table` joined with the user named by `user_column`."""
    labelled = [column.label(f"user__{column.name}") for column in users.c]
    joined = table.join(users, users.c.id == user_column, isouter=outer)
    return select(table, *labelled).select_from(joined)


_a, _h, _x = deal_approvals, deal_status_history, approval_actions
TIERS = (select(deal_tiers).where(deal_tiers.c.deal_id.in_(query.keys()))
         .order_by(deal_tiers.c.deal_id, deal_tiers.c.tier_number))
INCENTIVES = (select(incentive_values).where(incentive_values.c.deal_id.in_(query.keys()))
              .order_by(incentive_values.c.deal_id, incentive_values.c.position))
HISTORY = (with_user(_h, _h.c.changed_by).where(_h.c.deal_id.in_(query.keys()))
           .order_by(_h.c.deal_id, _h.c.changed_at, _h.c.id))
APPROVALS = (with_user(_a, _a.c.decided_by, outer=True).where(_a.c.deal_id.in_(query.keys()))
             .order_by(_a.c.deal_id, _a.c.round, _a.c.sequence))
ACTIONS = (with_user(_x, _x.c.actor_id).where(_x.c.approval_id.in_(query.keys()))
           .order_by(_x.c.approval_id, _x.c.created_at, _x.c.id))
DEAL_ACTIONS = (with_user(_x, _x.c.actor_id).where(_x.c.deal_id.in_(query.keys()))
                .order_by(_x.c.approval_id, _x.c.created_at, _x.c.id))


def tiers(connection: Connection, *, deal_ids: Sequence[str]) -> list[Row[Any]]:
    """Tiers of the deals, in tier order."""
    return query.rows(connection, TIERS, keys=deal_ids)


def incentives(connection: Connection, *, deal_ids: Sequence[str]) -> list[Row[Any]]:
    """Incentives of the deals, in the order they were given."""
    return query.rows(connection, INCENTIVES, keys=deal_ids)


def history(connection: Connection, *, deal_ids: Sequence[str]) -> list[Row[Any]]:
    """Status changes of the deals, oldest first, with who made them."""
    return query.rows(connection, HISTORY, keys=deal_ids)


def approvals(connection: Connection, *, deal_ids: Sequence[str]) -> list[Row[Any]]:
    """Every approval row of the deals, every round, in order, with who decided."""
    return query.rows(connection, APPROVALS, keys=deal_ids)


def actions(connection: Connection, *, approval_ids: Sequence[str]) -> list[Row[Any]]:
    """Decisions and comments on the approvals, oldest first, with their actors."""
    return query.rows(connection, ACTIONS, keys=approval_ids)


def deal_actions(connection: Connection, *, deal_ids: Sequence[str]) -> list[Row[Any]]:
    """Decisions and comments on every approval of the deals, oldest first per approval, with actors."""
    return query.rows(connection, DEAL_ACTIONS, keys=deal_ids)
