"""Loaders of approvals and their actions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row

from gateway.store import approval as approval_store
from gateway.store import children
from loaders.base import Loader, grouped
from resolvers.approval import ApprovalAction, DealApproval
from resolvers.rows import columns


class ApprovalByIdLoader(Loader[str, DealApproval | None]):
    async def batch_load_fn(self, keys: Sequence[str]) -> list[DealApproval | None]:
        rows = await self.db.read(approval_store.get_by_ids, principal=self.loaders.principal, ids=keys)
        found: dict[str, DealApproval] = {a.id: a for a in self.loaders.approvals_from_rows(rows)}
        return [found.get(key) for key in keys]


class ApprovalsByDealIdLoader(Loader[str, list[DealApproval]]):
    async def batch_load_fn(self, keys: Sequence[str]) -> list[list[DealApproval]]:
        rows = await self.db.read(children.approvals, deal_ids=keys)
        by_deal = grouped(self.loaders.approvals_from_rows(rows), lambda approval: approval.deal_id)
        return [by_deal[key] for key in keys]


class ActionsByApprovalIdLoader(Loader[str, list[ApprovalAction]]):
    async def batch_load_fn(self, keys: Sequence[str]) -> list[list[ApprovalAction]]:
        rows = await self.db.read(children.actions, approval_ids=keys)
        by_approval = grouped(rows, lambda row: row.approval_id)
        return [[self._action(row) for row in by_approval[key]] for key in keys]

    def _action(self, row: Row[Any]) -> ApprovalAction:
        return ApprovalAction.from_row(row._mapping, self.loaders.user_from(columns(row, "user")))
