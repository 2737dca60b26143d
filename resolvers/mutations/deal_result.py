"""What every deal mutation does once its transaction committed: publish the event, read the deal back."""

from __future__ import annotations

from auth.actions import Action, require
from auth.principal import Principal
from gateway.events.broker import Event
from gateway.store.audit import Actor
from resolvers.common.context import Context
from resolvers.deal.types import Deal


def require_role(principal: Principal, action: Action) -> None:
    """FORBIDDEN unless the caller's roles allow `action`, at least on their own deals (rows: later)."""
    require(principal, action, owner_id=principal.user_id)


async def committed(context: Context, actor: Actor, kind: str, deal_id: str) -> Deal:
    """Publish a committed change of the deal, then return the deal as it now is."""
    await context.db.when_committed(context.broker.publish, Event(kind=kind, deal_id=deal_id,
                                                                   actor_user_id=actor.user_id, at=actor.at))
    return await fresh_deal(context, deal_id)


async def fresh_deal(context: Context, deal_id: str) -> Deal:
    """The deal read again through the loaders, forgetting what this request loaded before."""
    loaders = context.loaders
    for loader in (loaders.deal_by_id, loaders.tiers_by_deal_id, loaders.incentives_by_deal_id,
                   loaders.approvals_by_deal_id, loaders.status_changes_by_deal_id,
                   loaders.scoping_request_by_deal_id):
        loader.clear(deal_id)
    loaders.actions_by_approval_id.clear_all()
    return await context.objects.must_load(Deal, loaders.deal_by_id, deal_id)
