"""Loaders of approvals and their actions."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from gateway.store import approval as approval_store
from gateway.store import children
from loaders.base import Loader, grouped
from loaders.records import ApprovalRecord, Joined


class ApprovalByIdLoader(Loader[str, ApprovalRecord | None]):
    async def batch_load_fn(self, keys: Sequence[str]) -> list[ApprovalRecord | None]:
        rows = await self.db.lookup(approval_store.get_by_ids, principal=self.loaders.principal, ids=keys)
        found = {record.row["id"]: record for record in self.loaders.prime_approvals(rows)}
        return [found.get(key) for key in keys]


class ApprovalsByDealIdLoader(Loader[str, list[ApprovalRecord]]):
    async def batch_load_fn(self, keys: Sequence[str]) -> list[list[ApprovalRecord]]:
        rows = await self.db.lookup(children.approvals, deal_ids=keys)
        by_deal = grouped(self.loaders.prime_approvals(rows), lambda record: record.row["deal_id"])
        return [by_deal[key] for key in keys]


class ApprovalsWithActionsByDealIdLoader(Loader[str, list[ApprovalRecord]]):
    """Every approval of the deals, each carrying its actions: both statements in one round trip."""

    async def batch_load_fn(self, keys: Sequence[str]) -> list[list[ApprovalRecord]]:
        approval_rows, action_rows = await asyncio.gather(
            self.db.lookup(children.approvals, deal_ids=keys),
            self.db.lookup(children.deal_actions, deal_ids=keys),
        )
        actions = grouped(self.loaders.prime_joined(action_rows), lambda action: action.row["approval_id"])
        approvals = self.loaders.prime_approvals(approval_rows, actions)
        by_deal = grouped(approvals, lambda record: record.row["deal_id"])
        return [by_deal[key] for key in keys]


class ActionsByApprovalIdLoader(Loader[str, list[Joined]]):
    async def batch_load_fn(self, keys: Sequence[str]) -> list[list[Joined]]:
        rows = await self.db.lookup(children.actions, approval_ids=keys)
        by_approval = grouped(self.loaders.prime_joined(rows), lambda action: action.row["approval_id"])
        return [by_approval[key] for key in keys]
