"""The served schema: the contract's types and the policy extensions."""

from __future__ import annotations

import functools
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import AddValidationRules, ParserCache, ValidationCache
from strawberry.extensions.query_depth_limiter import create_validator
from strawberry.types import ExecutionContext

from resolvers.approval import DealApproval
from resolvers.deal import Deal
from resolvers.errors import ErrorPolicy, classify
from resolvers.http_status import HttpStatusFromErrors
from resolvers.limits import QueryLimits, limit_extensions
from resolvers.mutation import Mutation
from resolvers.operation_info import RecordOperation
from resolvers.party import Advertiser, Agency
from resolvers.query import Query
from resolvers.scoping import ScopingRequest
from resolvers.subscription import DealEvent, Subscription
from resolvers.user import User

MAX_DEPTH = 12
# One rule class for the process: Strawberry's QueryDepthLimiter makes a new one per instance,
# and the validation cache is keyed by the rule classes, so it would never hit.
DEPTH_RULE = create_validator(MAX_DEPTH, None, None)


class DepthLimit(AddValidationRules):
    """QueryDepthLimiter(max_depth=MAX_DEPTH) with a rule shared by every request."""

    def __init__(self) -> None:
        super().__init__([DEPTH_RULE])


class Schema(strawberry.Schema):
    """Strawberry's schema, logging errors as one safe line each instead of stack traces."""

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None,
                       ) -> None:
        classify(errors)


def build(limits: QueryLimits | None = None, **options: Any) -> Schema:
    """The gateway's schema, enforcing `limits` (the defaults when not given)."""
    return Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[User, Advertiser, Agency, Deal, DealApproval, ScopingRequest, DealEvent],
        extensions=[
            ErrorPolicy, HttpStatusFromErrors, DepthLimit, RecordOperation,
            *limit_extensions(limits or QueryLimits()),
            ParserCache, ValidationCache,
        ],
        **options,
    )


@functools.cache
def for_limits(limits: QueryLimits) -> Schema:
    """The schema enforcing `limits`, built once per distinct limits in a process."""
    return build(limits)


schema = for_limits(QueryLimits())
