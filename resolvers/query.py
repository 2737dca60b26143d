"""The Query root: every read of the contract."""

from __future__ import annotations

import strawberry

from resolvers.analytics.queries import AnalyticsQuery
from resolvers.approval.queries import ApprovalQuery
from resolvers.deal.queries import DealQuery
from resolvers.node_query import NodeQuery
from resolvers.party.queries import PartyQuery
from resolvers.scoping.queries import ScopingQuery
from resolvers.user.queries import UserQuery


@strawberry.type
class Query(NodeQuery, UserQuery, DealQuery, PartyQuery, ScopingQuery, ApprovalQuery, AnalyticsQuery):
    """Field order follows the contract through the base classes."""
