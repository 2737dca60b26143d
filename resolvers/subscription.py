"""The Subscription root: live deal events, each checked against the subscriber's row rules in SQL."""

from __future__ import annotations

import datetime as dt
import weakref
from collections.abc import AsyncGenerator, AsyncIterator

import strawberry
import structlog
from strawberry.types import Info

from auth.principal import Principal
from gateway.core.ids import require_id
from gateway.events import broker as events
from loaders.registry import Loaders
from resolvers.common.context import Context
from resolvers.common.enums import DealEventKind
from resolvers.common.objects import Objects
from resolvers.deal.types import Deal
from resolvers.user.types import User

log = structlog.get_logger("deal_desk.events")

# The broker hands one Event object to every subscriber of the process. Subscribers with the same principal
# (the same row rules) share that event's loaders: an event costs its statements once per caller, not once
# per subscription (1,000 subscribers of one role: 2 statements, not 2,000). Gone with the event.
_shared: weakref.WeakKeyDictionary[events.Event, dict[Principal, tuple[Loaders, Objects]]] = (
    weakref.WeakKeyDictionary())


@strawberry.type
class DealEvent:
    kind: DealEventKind
    deal: Deal
    actor: User
    at: dt.datetime


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Events on the deals the caller may see; one deal's events when dealId is given."
    )
    async def deal_events(
        self, info: Info[Context, None], deal_id: strawberry.ID | None = None
    ) -> AsyncGenerator[DealEvent, None]:
        # A plain coroutine returning the stream, so a malformed id is an error before subscribing.
        wanted = require_id(deal_id, "dealId") if deal_id is not None else None
        return _deal_events(info.context, wanted)


async def _deal_events(context: Context, deal_id: str | None) -> AsyncGenerator[DealEvent, None]:
    async with context.broker.subscribe() as stream:
        async for event in _matching(stream, deal_id):
            visible = await visible_event(context, event)
            if visible is not None:
                yield visible


async def _matching(stream: AsyncIterator[events.Event], deal_id: str | None,
                    ) -> AsyncIterator[events.Event]:
    async for event in stream:
        if deal_id is None or event.deal_id == deal_id:
            yield event


async def visible_event(context: Context, event: events.Event) -> DealEvent | None:
    """`event` as the subscriber sees it, or None when its deal (or actor) is hidden from them."""
    # Nested Deal fields load through context.loaders: fresh ones per event, so nothing is cached
    # from an earlier event and the row rules run again in SQL for this one.
    context.loaders, context.objects = loaders, objects = _loaders_of(context, event)
    deal = await objects.load(Deal, loaders.deal_by_id, event.deal_id)
    actor = await objects.load(User, loaders.user_by_id, event.actor_user_id) if deal is not None else None
    kind = _kind(event.kind)
    if deal is None or actor is None or kind is None:
        return None
    return DealEvent(kind=kind, deal=deal, actor=actor, at=event.at)


def _loaders_of(context: Context, event: events.Event) -> tuple[Loaders, Objects]:
    by_caller = _shared.setdefault(event, {})
    if (state := by_caller.get(context.principal)) is None:
        state = by_caller[context.principal] = (Loaders(context.db, context.principal, context.settings),
                                                Objects())
    return state


def _kind(name: str) -> DealEventKind | None:
    try:
        return DealEventKind(name)
    except ValueError:
        log.warning("ignored a deal event of unknown kind", kind=name)
        return None
