"""DealApproval and ApprovalAction, and the caller's approval queue."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable

import strawberry
from strawberry.types import Info

from gateway.store.rows import RowLike
from gateway.workflow.deal import PreviewedStage
from loaders.records import ApprovalRecord, Joined
from resolvers.common.context import Context
from resolvers.common.enums import ActionChannel, ApprovalActionType, ApprovalStage, ApprovalStatus
from resolvers.common.node import Node
from resolvers.common.objects import Objects
from resolvers.deal.types import Deal
from resolvers.user.types import User


@strawberry.type
class ApprovalAction:
    id: strawberry.ID
    action: ApprovalActionType
    actor: User
    comment: str | None
    created_at: dt.datetime
    via: ActionChannel

    @classmethod
    def from_row(cls, row: RowLike, actor: User) -> ApprovalAction:
        """An action from an `approval_actions` row and its actor."""
        return cls(id=strawberry.ID(row["id"]), action=ApprovalActionType(row["action"]), actor=actor,
                   comment=row["comment"], created_at=row["created_at"],
                   via=ActionChannel(row["via"] or "API"))  # rows from before migration 8: API

    @classmethod
    def from_joined(cls, action: Joined, objects: Objects) -> ApprovalAction:
        """An action from an `approval_actions` row joined with its actor."""
        return cls.from_row(action.row, objects.must(User, action.user))


@strawberry.type
class DealApproval(Node):
    id: strawberry.ID
    stage: ApprovalStage
    sequence: int
    step: int = strawberry.field(description="Stages of one step run in parallel; steps run in order.")
    status: ApprovalStatus
    decided_by: User | None = strawberry.field(description="Who decided, once decided.")
    due_at: dt.datetime | None
    decided_at: dt.datetime | None
    escalated_at: dt.datetime | None
    deal_id: strawberry.Private[str]
    carried_over_from_id: strawberry.Private[str | None] = None
    known_actions: strawberry.Private[list[ApprovalAction] | None] = None  # read with the deal's approvals

    @classmethod
    def from_record(cls, record: ApprovalRecord, objects: Objects) -> DealApproval:
        """An approval from its row, its decider's row and, when read with it, its actions."""
        row, actions = record.row, record.actions
        return cls(id=strawberry.ID(row["id"]), stage=ApprovalStage(row["stage"]),
                   sequence=row["sequence"], step=row["step"], status=ApprovalStatus(row["status"]),
                   decided_by=objects.maybe(User, record.decided_by), due_at=row["due_at"],
                   decided_at=row["decided_at"], escalated_at=row["escalated_at"], deal_id=row["deal_id"],
                   carried_over_from_id=row["carried_over_from"],
                   known_actions=None if actions is None else [ApprovalAction.from_joined(action, objects)
                                                               for action in actions])

    @strawberry.field
    async def deal(self, info: Info[Context, None]) -> Deal:
        return await info.context.objects.must_load(Deal, info.context.loaders.deal_by_id, self.deal_id)

    @strawberry.field(description="The earlier approval this one was carried over from (smart re-approval).")
    async def carried_over_from(self, info: Info[Context, None]) -> DealApproval | None:
        if self.carried_over_from_id is None:
            return None
        record = await info.context.loaders.approval_by_id.load(self.carried_over_from_id)
        return None if record is None else DealApproval.from_record(record, info.context.objects)

    @strawberry.field(graphql_type=list[ApprovalAction])
    def actions(self, info: Info[Context, None]) -> list[ApprovalAction] | Awaitable[list[ApprovalAction]]:
        # Not async: actions read with the approval complete without an awaitable per approval.
        if self.known_actions is not None:
            return self.known_actions
        return self._load_actions(info.context)

    async def _load_actions(self, context: Context) -> list[ApprovalAction]:
        actions = await context.loaders.actions_by_approval_id.load(self.id)
        return [ApprovalAction.from_joined(action, context.objects) for action in actions]


@strawberry.type
class ApprovalPreview:
    stage: ApprovalStage
    step: int
    due_in_hours: float
    carried_over: bool = strawberry.field(
        description="True when a resubmission now would carry an earlier approval over.")
    reasons: list[str] = strawberry.field(
        description="Which rule and threshold made the stage required, in words.")

    @classmethod
    def from_previewed(cls, previewed: PreviewedStage) -> ApprovalPreview:
        """A preview row from a stage of the chain preview."""
        planned = previewed.planned
        return cls(stage=ApprovalStage(planned.needed.stage), step=planned.needed.step,
                   due_in_hours=float(planned.due_hours), carried_over=planned.carried_from is not None,
                   reasons=previewed.reasons)
