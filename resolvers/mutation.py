"""The Mutation root: one base class per mutation module."""

from __future__ import annotations

import strawberry

from resolvers.mutations.create_advertiser import CreateAdvertiserMutation
from resolvers.mutations.create_agency import CreateAgencyMutation


@strawberry.type
class Mutation(CreateAdvertiserMutation, CreateAgencyMutation):
    """Every write of the contract."""
