"""Per-request dataloaders; rows fetched with their to-one relations prime the relation loaders."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Any

from sqlalchemy import Row

from auth.principal import Principal
from gateway.core.settings import Settings
from gateway.store import deal as deal_store
from gateway.store.database import Database
from gateway.store.pagination import Page, page_of
from gateway.store.reference_cache import ReferenceCache, cache_of
from gateway.store.rows import Relation, RowLike
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
from loaders.pricing import PricingGuidanceByRequestLoader
from loaders.records import ApprovalRecord, Joined
from loaders.scoping import ScopingRequestByDealIdLoader, ScopingRequestByIdLoader


class Loaders:
    """The loaders of one request, each created on first use."""

    def __init__(self, db: Database, principal: Principal, settings: Settings) -> None:
        self.db, self.principal, self.settings = db, principal, settings
        self._by_args: dict[tuple[Any, ...], Any] = {}
        self._users: dict[str, RowLike] = {}  # read in joins: the first row of each user is the one primed

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

    def pricing_guidance_by_request(self, similar: int) -> PricingGuidanceByRequestLoader:
        """The loader of pricing guidance, reading up to `similar` similar deals per lookup (0: none)."""
        key = ("pricing_guidance_by_request", similar)
        if key not in self._by_args:
            self._by_args[key] = PricingGuidanceByRequestLoader(
                self, min_sample=self.settings.guidance_min_sample, similar=similar)
        loader: PricingGuidanceByRequestLoader = self._by_args[key]
        return loader

    def prime_deals(self, rows: Sequence[Row[Any]]) -> list[RowLike]:
        """Deal rows joined with owner, advertiser and agency, priming those loaders and the deal's."""
        deals: list[RowLike] = []
        owner, advertiser, agency = (Relation(rows, name) for name in ("owner", "advertiser", "agency"))
        for row in rows:
            deal = row._mapping
            self.deal_by_id.prime(deal["id"], deal)
            self._prime_user(owner(row))
            self.advertiser_by_id.prime(deal["advertiser_id"], advertiser(row))
            if deal["agency_id"] is not None:
                self.agency_by_id.prime(deal["agency_id"], agency(row))
            deals.append(deal)
        return deals

    def prime_approvals(self, rows: Sequence[Row[Any]],
                        actions: Mapping[str, list[Joined]] | None = None) -> list[ApprovalRecord]:
        """Approvals of rows joined with their decider (primed); with `actions`, each carrying its own."""
        decided_by = Relation(rows, "user")
        return [ApprovalRecord(row._mapping, self._prime_user(decided_by(row)),
                               None if actions is None else actions.get(row.id, []))
                for row in rows]

    def prime_joined(self, rows: Sequence[Row[Any]]) -> list[Joined]:
        """Rows joined with the user they name (labelled `user__*`), priming the user loader."""
        user = Relation(rows, "user")
        return [Joined(row._mapping, self._prime_user(user(row))) for row in rows]

    def _prime_user(self, row: RowLike) -> RowLike | None:
        """The user row from joined columns, primed into the user loader; None when the join found none."""
        user_id = row.get("id")
        if user_id is None:
            return None
        primed = self._users.get(user_id)
        if primed is None:
            primed = self._users[user_id] = row
            self.user_by_id.prime(user_id, row)
        return primed

    def _page(self, first: int | None, after: str | None) -> Page:
        order = DealsByParentLoader.ORDER
        return page_of(self.settings, first, after, deal_store.sort_keys(order), deal_store.order_tag(order))
