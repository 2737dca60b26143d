"""Pipeline buckets and approval metrics, computed in SQL over the deals the caller may see."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from resolvers.common.enums import ApprovalStage


@strawberry.type
class PipelineBucket:
    key: str
    deal_count: int
    total_value: Decimal


@strawberry.type
class ApprovalStageMetrics:
    stage: ApprovalStage
    pending_count: int
    overdue_count: int
    decided_count: int
    median_hours_to_decision: float | None
    p90_hours_to_decision: float | None
