"""The Query root: every read of the contract."""

from __future__ import annotations

import strawberry

from resolvers.analytics import AnalyticsQuery
from resolvers.approval import ApprovalQuery
from resolvers.deal import DealQuery
from resolvers.node_query import NodeQuery
from resolvers.party import PartyQuery
from resolvers.scoping import ScopingQuery
from resolvers.user import UserQuery


@strawberry.type
class Query(NodeQuery, UserQuery, DealQuery, PartyQuery, ScopingQuery, ApprovalQuery, AnalyticsQuery):
    """Field order follows the contract through the base classes."""
