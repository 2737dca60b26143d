"""The Mutation root: one base class per mutation module."""

from __future__ import annotations

import strawberry

from resolvers.mutations.close_deal import CloseDealMutation
from resolvers.mutations.comment_on_approval import CommentOnApprovalMutation
from resolvers.mutations.convert_scoping_request import ConvertScopingRequestMutation
from resolvers.mutations.create_advertiser import CreateAdvertiserMutation
from resolvers.mutations.create_agency import CreateAgencyMutation
from resolvers.mutations.create_deal import CreateDealMutation
from resolvers.mutations.create_scoping_request import CreateScopingRequestMutation
from resolvers.mutations.decide_approval import DecideApprovalMutation
from resolvers.mutations.set_deal_incentives import SetDealIncentivesMutation
from resolvers.mutations.set_deal_tiers import SetDealTiersMutation
from resolvers.mutations.set_scoping_status import SetScopingStatusMutation
from resolvers.mutations.submit_deal import SubmitDealMutation
from resolvers.mutations.update_deal import UpdateDealMutation
from resolvers.mutations.withdraw_deal import WithdrawDealMutation


@strawberry.type
class Mutation(CreateAdvertiserMutation, CreateAgencyMutation, CreateScopingRequestMutation,
               SetScopingStatusMutation, CreateDealMutation, UpdateDealMutation, SetDealTiersMutation,
               SetDealIncentivesMutation, SubmitDealMutation, DecideApprovalMutation,
               CommentOnApprovalMutation, WithdrawDealMutation, CloseDealMutation,
               ConvertScopingRequestMutation):
    """Every write of the contract."""
