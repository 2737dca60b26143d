"""Which type an id belongs to, among the rows the caller may see: one UNION ALL statement."""

from __future__ import annotations

from sqlalchemy import Connection, literal, select, union_all

from auth.principal import Principal
from auth.rows import visible_deals, visible_reference, visible_scoping_requests, visible_users
from gateway.core.tables import (
    advertisers,
    agencies,
    deal_approvals,
    deal_scoping_requests,
    deals,
    users,
)


def kind_of(connection: Connection, *, principal: Principal, id: str) -> str | None:
    """The GraphQL type name of the visible object with `id`, or None."""
    approvals_of_visible = (
        select(literal("DealApproval").label("kind"))
        .select_from(deal_approvals.join(deals, deals.c.id == deal_approvals.c.deal_id))
        .where(deal_approvals.c.id == id, visible_deals(principal))
    )
    stmt = union_all(
        select(literal("Deal").label("kind")).where(deals.c.id == id, visible_deals(principal)),
        approvals_of_visible,
        select(literal("ScopingRequest").label("kind")).where(
            deal_scoping_requests.c.id == id, visible_scoping_requests(principal)
        ),
        select(literal("User").label("kind")).where(users.c.id == id, visible_users(principal)),
        *(select(literal(kind).label("kind")).where(table.c.id == id, visible_reference(principal))
          for kind, table in (("Advertiser", advertisers), ("Agency", agencies))),
    )
    return connection.execute(stmt).scalar()
