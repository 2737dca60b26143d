"""Loaders of approvals and their actions."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row

from gateway.store import approval as approval_store
from gateway.store import children
from loaders.base import Loader, grouped
from resolvers.approval import ApprovalAction, DealApproval
from resolvers.rows import Relation

if TYPE_CHECKING:
    from loaders.registry import Loaders


class ApprovalByIdLoader(Loader[str, DealApproval | None]):
    async def batch_load_fn(self, keys: Sequence[str]) -> list[DealApproval | None]:
        rows = await self.db.lookup(approval_store.get_by_ids, principal=self.loaders.principal, ids=keys)
        found: dict[str, DealApproval] = {a.id: a for a in self.loaders.approvals_from_rows(rows)}
        return [found.get(key) for key in keys]


class ApprovalsByDealIdLoader(Loader[str, list[DealApproval]]):
    async def batch_load_fn(self, keys: Sequence[str]) -> list[list[DealApproval]]:
        rows = await self.db.lookup(children.approvals, deal_ids=keys)
        by_deal = grouped(self.loaders.approvals_from_rows(rows), lambda approval: approval.deal_id)
        return [by_deal[key] for key in keys]


class ApprovalsWithActionsByDealIdLoader(Loader[str, list[DealApproval]]):
    """Every approval of the deals, each carrying its actions: both statements in one round trip."""

    async def batch_load_fn(self, keys: Sequence[str]) -> list[list[DealApproval]]:
        approval_rows, action_rows = await asyncio.gather(
            self.db.lookup(children.approvals, deal_ids=keys),
            self.db.lookup(children.deal_actions, deal_ids=keys),
        )
        by_approval = grouped(action_rows, lambda row: row.approval_id)
        actor = Relation(action_rows, "user")
        actions = {key: [action_of(self.loaders, row, actor) for row in rows]
                   for key, rows in by_approval.items()}
        approvals = self.loaders.approvals_from_rows(approval_rows, actions)
        by_deal = grouped(approvals, lambda approval: approval.deal_id)
        return [by_deal[key] for key in keys]


class ActionsByApprovalIdLoader(Loader[str, list[ApprovalAction]]):
    async def batch_load_fn(self, keys: Sequence[str]) -> list[list[ApprovalAction]]:
        rows = await self.db.lookup(children.actions, approval_ids=keys)
        by_approval = grouped(rows, lambda row: row.approval_id)
        actor = Relation(rows, "user")
        return [[action_of(self.loaders, row, actor) for row in by_approval[key]] for key in keys]


def action_of(loaders: Loaders, row: Row[Any], actor: Relation) -> ApprovalAction:
    """An action from a row joined with its actor, priming the user loader."""
    return ApprovalAction.from_row(row._mapping, loaders.user_from(actor(row)))
