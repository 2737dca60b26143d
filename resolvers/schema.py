"""The served schema: the contract's types and the policy extensions."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import ParserCache, QueryDepthLimiter, ValidationCache
from strawberry.types import ExecutionContext

from resolvers.approval import DealApproval
from resolvers.deal import Deal
from resolvers.errors import ErrorPolicy, classify
from resolvers.http_status import HttpStatusFromErrors
from resolvers.mutation import Mutation
from resolvers.party import Advertiser, Agency
from resolvers.query import Query
from resolvers.scoping import ScopingRequest
from resolvers.subscription import DealEvent, Subscription
from resolvers.user import User

MAX_DEPTH = 12


class Schema(strawberry.Schema):
    """Strawberry's schema, logging errors as one safe line each instead of stack traces."""

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None,
                       ) -> None:
        classify(errors)


def build(**options: Any) -> Schema:
    """The gateway's schema."""
    return Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[User, Advertiser, Agency, Deal, DealApproval, ScopingRequest, DealEvent],
        extensions=[
            ErrorPolicy, HttpStatusFromErrors, lambda: QueryDepthLimiter(max_depth=MAX_DEPTH),
            ParserCache, ValidationCache,
        ],
        **options,
    )


schema = build()
