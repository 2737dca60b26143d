"""The Deal Desk roles: the settings map identity-provider groups to them, the auth policies read them."""

from __future__ import annotations

import enum


class Role(enum.Enum):
    """Deal Desk roles, mapped from identity-provider groups."""

    SELLER = "SELLER"
    SALES_MANAGER = "SALES_MANAGER"
    DEAL_DESK = "DEAL_DESK"
    FINANCE = "FINANCE"
    LEGAL = "LEGAL"
    EXECUTIVE = "EXECUTIVE"
    ANALYST = "ANALYST"
    ADMIN = "ADMIN"
