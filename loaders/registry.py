"""Per-request dataloaders; rows fetched with their to-one relations prime the relation loaders."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Any

from sqlalchemy import Row

from auth.principal import Principal
from gateway.pagination import Page
from gateway.reference_cache import ReferenceCache, cache_of
from gateway.settings import Settings
from gateway.store import deal as deal_store
from gateway.store.database import Database
from loaders.approval import (
    ActionsByApprovalIdLoader,
    ApprovalByIdLoader,
    ApprovalsByDealIdLoader,
    ApprovalsWithActionsByDealIdLoader,
)
from loaders.deal import (
    DealByIdLoader,
    DealCountByParentLoader,
    DealsByParentLoader,
    IncentivesByDealIdLoader,
    StatusChangesByDealIdLoader,
    TiersByDealIdLoader,
)
from loaders.party import AdvertiserByIdLoader, AgencyByIdLoader, UserByIdLoader
from loaders.scoping import ScopingRequestByDealIdLoader, ScopingRequestByIdLoader
from resolvers.approval import ApprovalAction, DealApproval
from resolvers.connection import page_of
from resolvers.deal import Deal
from resolvers.party import Advertiser, Agency
from resolvers.rows import Relation
from resolvers.user import User


class Loaders:
    """The loaders of one request, each created on first use."""

    def __init__(self, db: Database, principal: Principal, settings: Settings) -> None:
        self.db, self.principal, self.settings = db, principal, settings
        self._by_args: dict[tuple[Any, ...], Any] = {}
        self._users: dict[str, User] = {}  # built from joined rows: one object per user and request

    @cached_property
    def reference_cache(self) -> ReferenceCache | None:
        """The app's cache of reference rows (None when switched off); the loaders decide who may use it."""
        return cache_of(self.db.engine)

    @cached_property
    def user_by_id(self) -> UserByIdLoader:
        return UserByIdLoader(self)

    @cached_property
    def advertiser_by_id(self) -> AdvertiserByIdLoader:
        return AdvertiserByIdLoader(self)

    @cached_property
    def agency_by_id(self) -> AgencyByIdLoader:
        return AgencyByIdLoader(self)

    @cached_property
    def deal_by_id(self) -> DealByIdLoader:
        return DealByIdLoader(self)

    @cached_property
    def tiers_by_deal_id(self) -> TiersByDealIdLoader:
        return TiersByDealIdLoader(self)

    @cached_property
    def incentives_by_deal_id(self) -> IncentivesByDealIdLoader:
        return IncentivesByDealIdLoader(self)

    @cached_property
    def status_changes_by_deal_id(self) -> StatusChangesByDealIdLoader:
        return StatusChangesByDealIdLoader(self)

    @cached_property
    def approvals_by_deal_id(self) -> ApprovalsByDealIdLoader:
        return ApprovalsByDealIdLoader(self)

    @cached_property
    def approvals_with_actions_by_deal_id(self) -> ApprovalsWithActionsByDealIdLoader:
        return ApprovalsWithActionsByDealIdLoader(self)

    @cached_property
    def approval_by_id(self) -> ApprovalByIdLoader:
        return ApprovalByIdLoader(self)

    @cached_property
    def actions_by_approval_id(self) -> ActionsByApprovalIdLoader:
        return ActionsByApprovalIdLoader(self)

    @cached_property
    def scoping_request_by_id(self) -> ScopingRequestByIdLoader:
        return ScopingRequestByIdLoader(self)

    @cached_property
    def scoping_request_by_deal_id(self) -> ScopingRequestByDealIdLoader:
        return ScopingRequestByDealIdLoader(self)

    def deals_by_parent(self, column: str, first: int | None, after: str | None) -> DealsByParentLoader:
        """The loader of `advertiser.deals` or `agency.deals` pages for one argument pair."""
        key = ("deals_by_parent", column, first, after)
        if key not in self._by_args:
            self._by_args[key] = DealsByParentLoader(self, column, self._page(first, after))
        loader: DealsByParentLoader = self._by_args[key]
        return loader

    def deal_count_by_parent(self, column: str) -> DealCountByParentLoader:
        """The loader of totalCount of `advertiser.deals` or `agency.deals`."""
        key = ("deal_count_by_parent", column)
        if key not in self._by_args:
            self._by_args[key] = DealCountByParentLoader(self, column)
        loader: DealCountByParentLoader = self._by_args[key]
        return loader

    def deals_from_rows(self, rows: Sequence[Row[Any]]) -> list[Deal]:
        """Deals from rows joined with owner, advertiser and agency, priming those loaders."""
        deals = []
        owner, advertiser, agency = (Relation(rows, name) for name in ("owner", "advertiser", "agency"))
        for row in rows:
            deal = Deal.from_row(row._mapping)
            self.deal_by_id.prime(deal.id, deal)
            self.user_from(owner(row))
            self.advertiser_by_id.prime(deal.advertiser_id, Advertiser.from_row(advertiser(row)))
            if deal.agency_id is not None:
                self.agency_by_id.prime(deal.agency_id, Agency.from_row(agency(row)))
            deals.append(deal)
        return deals

    def approvals_from_rows(self, rows: Sequence[Row[Any]],
                            actions: Mapping[str, list[ApprovalAction]] | None = None) -> list[DealApproval]:
        """Approvals from rows joined with their decider (primed); with `actions`, each carrying its own."""
        decided_by = Relation(rows, "user")
        return [DealApproval.from_row(row._mapping, self._decider(decided_by(row)),
                                      None if actions is None else actions.get(row.id, []))
                for row in rows]

    def user_from(self, row: Mapping[str, Any]) -> User:
        """A User from joined columns, primed into the user loader (built once per user and request)."""
        user = self._users.get(row["id"])
        if user is None:
            user = self._users[row["id"]] = User.from_row(row)
            self.user_by_id.prime(user.id, user)
        return user

    def _decider(self, decider: Mapping[str, Any]) -> User | None:
        return self.user_from(decider) if decider.get("id") is not None else None

    def _page(self, first: int | None, after: str | None) -> Page:
        order = DealsByParentLoader.ORDER
        return page_of(self.settings, first, after, deal_store.sort_keys(order), deal_store.order_tag(order))
