"""A request's objects are freed when it ends: none of ours are left in reference cycles for the collector.

With many requests in flight, a request's objects outlive several young collections; objects in cycles
then wait for the collector's older generations, whose passes grew to hundreds of ms (docs/performance.md).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

from tests.support.gateway import Gateway
from tests.support.workflow import CREATE, Workflow, pending
from tests.test_deal import DEAL_PAGE, LIST_PAGE, approved_deal, cast

OURS = ("gateway.", "resolvers.", "loaders.", "auth.", "strawberry.", "graphql.")


@contextmanager
def cyclic_garbage() -> Iterator[list[str]]:
    """Names of the types of the objects the block left in reference cycles."""
    found: list[str] = []
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        yield found
        gc.collect()
        found.extend(f"{type(o).__module__}.{type(o).__qualname__}" for o in gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


async def test_a_deal_page_leaves_no_reference_cycles_of_ours(gateway: Gateway) -> None:
    people = cast(gateway.data)
    deal_id = approved_deal(gateway.data, **people)
    desk, seller = gateway.token("desk@x.test", "DEAL_DESK"), gateway.token("seller@x.test", "SELLER")
    await gateway.post(DEAL_PAGE, {"id": deal_id}, token=desk)  # first use builds the app's caches

    with cyclic_garbage() as garbage:
        answer = await gateway.post(DEAL_PAGE, {"id": deal_id}, token=desk)
        partial = await gateway.post(DEAL_PAGE, {"id": deal_id}, token=seller)  # with FORBIDDEN errors

    assert answer.json()["data"]["deal"]["approvals"] and "errors" not in answer.json()
    assert partial.json()["errors"]
    assert [name for name in garbage if name.startswith(OURS)] == []


async def test_lists_writes_and_refused_input_leave_no_reference_cycles_of_ours(gateway: Gateway) -> None:
    flow = await Workflow(gateway).meet()

    async def steps() -> tuple[int, str, str]:
        listed = await gateway.data_of(LIST_PAGE, {"first": 10}, token=flow.tokens["desk"])
        deal = await flow.submit(await flow.create())
        decided = await flow.decide(pending(deal)["id"], "APPROVE", who="manager")
        refused = await flow.fail(CREATE, {"input": flow.deal_input(totalValue="-1")}, who="seller")
        return listed["deals"]["totalCount"], decided["status"], refused[0]

    await steps()  # first use of each document: graphql-core validates it once (its own cycles), then cached
    with cyclic_garbage() as garbage:
        listed, decided, refused = await steps()

    assert (listed, decided, refused) == (1, "PENDING_APPROVAL", "BAD_USER_INPUT")
    assert [name for name in garbage if name.startswith(OURS)] == []
