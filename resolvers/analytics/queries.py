"""The analytics queries."""


from __future__ import annotations

import datetime as dt

import strawberry
from strawberry.types import Info

from gateway.store import approval_metrics as metrics_store
from gateway.store import pipeline as pipeline_store
from resolvers.analytics.types import ApprovalStageMetrics, PipelineBucket
from resolvers.common.context import Context
from resolvers.common.enums import ApprovalStage, PipelineGroupBy
from resolvers.deal.filter import DealFilter, criteria, utc


@strawberry.type
class AnalyticsQuery:
    @strawberry.field(description="Deal count and value per bucket, over the deals the caller may see.")
    async def pipeline(
        self, info: Info[Context, None], group_by: PipelineGroupBy, filter: DealFilter | None = None
    ) -> list[PipelineBucket]:
        context = info.context
        rows = await context.db.read(pipeline_store.buckets, principal=context.principal,
                                     group_by=group_by.value, criteria=criteria(filter))
        return [PipelineBucket(key=key, deal_count=n, total_value=total) for key, n, total in rows]

    @strawberry.field(
        description="Approval throughput and bottlenecks per stage, over the deals the caller may see."
    )
    async def approval_metrics(
        self, info: Info[Context, None], since: dt.datetime | None = None
    ) -> list[ApprovalStageMetrics]:
        context = info.context
        stages = await context.db.read(metrics_store.stage_metrics, principal=context.principal,
                                       since=utc(since, "since"), now=dt.datetime.now(dt.UTC))
        return [
            ApprovalStageMetrics(
                stage=ApprovalStage(m.stage), pending_count=m.pending_count,
                overdue_count=m.overdue_count, decided_count=m.decided_count,
                median_hours_to_decision=m.median_hours, p90_hours_to_decision=m.p90_hours,
            )
            for m in stages
        ]
