"""The served schema: the contract's types and the policy extensions."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import AddValidationRules, ParserCache, SchemaExtension
from strawberry.extensions.query_depth_limiter import create_validator
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType

from resolvers.approval.types import DealApproval
from resolvers.deal.types import Deal
from resolvers.extensions.errors import ErrorPolicy, classify, drop_tracebacks
from resolvers.extensions.execution import Executor
from resolvers.extensions.http_status import HttpStatusFromErrors
from resolvers.extensions.limits import QueryLimits, limit_extensions
from resolvers.extensions.operation_info import RecordOperation
from resolvers.extensions.validation_cache import ValidationByText
from resolvers.mutation import Mutation
from resolvers.party.types import Advertiser, Agency
from resolvers.query import Query
from resolvers.scoping.types import ScopingRequest
from resolvers.subscription import DealEvent, Subscription
from resolvers.user.types import User

MAX_DEPTH = 12
# One rule class for the process: Strawberry's QueryDepthLimiter makes a new one per instance,
# and the validation cache is keyed by the rule classes, so it would never hit.
DEPTH_RULE = create_validator(MAX_DEPTH, None, None)


class DepthLimit(AddValidationRules):
    """QueryDepthLimiter(max_depth=MAX_DEPTH) with a rule shared by every request."""

    def __init__(self) -> None:
        super().__init__([DEPTH_RULE])


class Schema(strawberry.Schema):
    """Strawberry's schema, logging errors as one safe line each instead of stack traces (then dropped)."""

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None,
                       ) -> None:
        classify(errors, execution_context)
        for error in errors:
            drop_tracebacks(error)

    async def execute(self, query: str | None, variable_values: dict[str, Any] | None = None,
                      context_value: Any | None = None, root_value: Any | None = None,
                      operation_name: str | None = None,
                      allowed_operation_types: Iterable[OperationType] | None = None,
                      operation_extensions: dict[str, Any] | None = None) -> ExecutionResult:
        """Run a query or mutation; subscriptions are served by subscribe() (WebSocket), never here."""
        allowed = set(allowed_operation_types or (OperationType.QUERY, OperationType.MUTATION))
        allowed.discard(OperationType.SUBSCRIPTION)
        return await super().execute(query, variable_values, context_value, root_value, operation_name,
                                     allowed, operation_extensions)


def build(limits: QueryLimits | None = None, *, tracing: tuple[Callable[[], SchemaExtension], ...] = (),
          **options: Any) -> Schema:
    """The gateway's schema, enforcing `limits` (the defaults when not given), traced by `tracing`."""
    return Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[User, Advertiser, Agency, Deal, DealApproval, ScopingRequest, DealEvent],
        extensions=[
            *tracing,  # outermost: an operation's span covers the other extensions' work
            ErrorPolicy, HttpStatusFromErrors, DepthLimit, RecordOperation,
            *limit_extensions(limits or QueryLimits()),
            ParserCache, ValidationByText,
        ],
        execution_context_class=Executor,
        **options,
    )


@functools.cache
def for_limits(limits: QueryLimits, tracing: tuple[Callable[[], SchemaExtension], ...] = ()) -> Schema:
    """The schema enforcing `limits`, built once per distinct limits (and tracing) in a process."""
    return build(limits, tracing=tracing)


schema = for_limits(QueryLimits(), ())  # the arguments create_app passes by default: one schema built
