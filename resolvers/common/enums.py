"""The contract's enums."""

from __future__ import annotations

import enum

import strawberry

from gateway.core.roles import Role

strawberry.enum(Role, name="Role")

__all__ = ["Role"]


@strawberry.enum
class DealStatus(enum.Enum):
    DRAFT = "DRAFT"
    PENDING_APPROVAL = "PENDING_APPROVAL"
    CHANGES_REQUESTED = "CHANGES_REQUESTED"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    WITHDRAWN = "WITHDRAWN"
    CLOSED_WON = "CLOSED_WON"
    CLOSED_LOST = "CLOSED_LOST"


@strawberry.enum
class DealType(enum.Enum):
    PROGRAMMATIC_GUARANTEED = "PROGRAMMATIC_GUARANTEED"
    PREFERRED_DEAL = "PREFERRED_DEAL"
    PRIVATE_MARKETPLACE = "PRIVATE_MARKETPLACE"
    MANAGED_SERVICE = "MANAGED_SERVICE"


@strawberry.enum
class Channel(enum.Enum):
    DISPLAY = "DISPLAY"
    VIDEO = "VIDEO"
    CTV = "CTV"
    AUDIO = "AUDIO"
    DOOH = "DOOH"
    NATIVE = "NATIVE"


@strawberry.enum
class ApprovalStage(enum.Enum):
    SALES_MANAGER = "SALES_MANAGER"
    DEAL_DESK = "DEAL_DESK"
    FINANCE = "FINANCE"
    LEGAL = "LEGAL"
    EXECUTIVE = "EXECUTIVE"


@strawberry.enum
class ApprovalStatus(enum.Enum):
    WAITING = strawberry.enum_value("WAITING", description="A later stage, not yet reached.")
    PENDING = strawberry.enum_value("PENDING", description="The stage that can be decided now.")
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    CHANGES_REQUESTED = "CHANGES_REQUESTED"
    CANCELLED = strawberry.enum_value(
        "CANCELLED",
        description="Closed without a decision (deal withdrawn, or superseded by a resubmission).",
    )


@strawberry.enum
class ApprovalDecision(enum.Enum):
    APPROVE = "APPROVE"
    REJECT = "REJECT"
    REQUEST_CHANGES = "REQUEST_CHANGES"


@strawberry.enum
class ApprovalActionType(enum.Enum):
    APPROVE = "APPROVE"
    REJECT = "REJECT"
    REQUEST_CHANGES = "REQUEST_CHANGES"
    COMMENT = "COMMENT"
    CARRIED_OVER = strawberry.enum_value(
        "CARRIED_OVER",
        description="Approved again without asking: nothing it watches changed since an earlier approval "
                    "(by the system).")
    ESCALATED = strawberry.enum_value(
        "ESCALATED", description="The stage passed its due time and was escalated (by the system).")


@strawberry.enum(description="Where an approval action was taken.")
class ActionChannel(enum.Enum):
    API = "API"
    SLACK = "SLACK"
    SYSTEM = "SYSTEM"


@strawberry.enum
class IncentiveType(enum.Enum):
    AGENCY_REBATE = "AGENCY_REBATE"
    VOLUME_BONUS = "VOLUME_BONUS"
    ADDED_VALUE = "ADDED_VALUE"
    MAKEGOOD = "MAKEGOOD"
    OTHER = "OTHER"


@strawberry.enum
class IncentiveUnit(enum.Enum):
    PERCENT = "PERCENT"
    AMOUNT = "AMOUNT"
    IMPRESSIONS = "IMPRESSIONS"


@strawberry.enum
class ScopingStatus(enum.Enum):
    OPEN = "OPEN"
    IN_REVIEW = "IN_REVIEW"
    QUALIFIED = "QUALIFIED"
    DECLINED = "DECLINED"
    CONVERTED = "CONVERTED"


@strawberry.enum
class SortDirection(enum.Enum):
    ASC = "ASC"
    DESC = "DESC"


@strawberry.enum
class DealSortField(enum.Enum):
    CREATED_AT = "CREATED_AT"
    UPDATED_AT = "UPDATED_AT"
    TOTAL_VALUE = "TOTAL_VALUE"
    START_DATE = "START_DATE"
    NAME = "NAME"


@strawberry.enum
class PipelineGroupBy(enum.Enum):
    STATUS = "STATUS"
    REGION = "REGION"
    OWNER = "OWNER"
    ADVERTISER = "ADVERTISER"
    AGENCY = "AGENCY"
    MONTH = "MONTH"
    DEAL_TYPE = "DEAL_TYPE"


@strawberry.enum
class DealEventKind(enum.Enum):
    CREATED = "CREATED"
    UPDATED = "UPDATED"
    SUBMITTED = "SUBMITTED"
    APPROVAL_DECIDED = "APPROVAL_DECIDED"
    COMMENTED = "COMMENTED"
    WITHDRAWN = "WITHDRAWN"
    CLOSED = "CLOSED"
    ESCALATED = "ESCALATED"
