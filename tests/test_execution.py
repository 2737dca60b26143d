"""The executor's short path for plain leaf fields answers exactly as graphql-core's full path."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from gateway.graphql_app import GraphQLApp
from resolvers.extensions.execution import Executor
from tests.support.gateway import Gateway
from tests.test_deal import DEAL_PAGE, LIST_PAGE, approved_deal, cast


@contextmanager
def graphql_core_path(gateway: Gateway) -> Iterator[None]:
    """Executes with Strawberry's own execution context while the block runs."""
    view = next(route.app for route in gateway.app.router.routes if isinstance(route.app, GraphQLApp))
    view.schema.execution_context_class = StrawberryGraphQLCoreExecutionContext
    try:
        yield
    finally:
        view.schema.execution_context_class = Executor


async def both_ways(gateway: Gateway, query: str, variables: dict[str, Any],
                   token: str) -> tuple[bytes, bytes]:
    """The raw body of one request on the short path and on graphql-core's path (key order included)."""
    short = (await gateway.post(query, variables, token=token)).content
    with graphql_core_path(gateway):
        full = (await gateway.post(query, variables, token=token)).content
    return short, full


async def test_deal_pages_are_the_same_with_forbidden_fields_and_nulls(gateway: Gateway) -> None:
    people = cast(gateway.data)
    deal_id = approved_deal(gateway.data, **people)
    gateway.data.deal(owner=people["owner"], advertiser=people["advertiser"], name="No agency")
    for email, role in (("desk@x.test", "DEAL_DESK"), ("seller@x.test", "SELLER")):
        token = gateway.token(email, role, region="NA")

        short, full = await both_ways(gateway, DEAL_PAGE, {"id": deal_id}, token)
        short_list, full_list = await both_ways(gateway, LIST_PAGE, {"first": 5}, token)

        assert short == full and short_list == full_list
        assert (b'"FORBIDDEN"' in short) == (role == "SELLER")  # margins: null and an error for sellers
