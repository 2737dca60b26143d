"""The row and field rules of PRODUCT.md as terms, defined once and rendered for two kinds of reader.

A rule is data; `condition` renders it as a SQL condition for a `Subject`:

- the gateway's caller (`auth.rows.Caller`): a Principal, whose roles are known (so role tests fold to
  TRUE/FALSE) and whose user id and region are bound values;
- a governed view's reader on Databricks (`gateway.store.governance`): roles by
  `is_account_group_member(...)`, user id and region from `user_access` joined on `current_user()`.

So a change to a rule changes the gateway's SQL and the analysts' views alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import ColumnElement, False_, FromClause, True_, and_, false, or_, true

from gateway.core.roles import Role

SEES_ALL = frozenset(
    {Role.DEAL_DESK, Role.FINANCE, Role.LEGAL, Role.EXECUTIVE, Role.ANALYST, Role.ADMIN})
OWNERS = frozenset({Role.SELLER, Role.SALES_MANAGER})  # see their own rows
REGIONAL = frozenset({Role.SALES_MANAGER})  # see their region's rows
MARGIN_VIEWERS = frozenset(
    {Role.SALES_MANAGER, Role.DEAL_DESK, Role.FINANCE, Role.EXECUTIVE, Role.ANALYST, Role.ADMIN})
INCENTIVE_VIEWERS = MARGIN_VIEWERS


class Subject(Protocol):
    """Who reads, as SQL terms."""

    def holds(self, roles: frozenset[Role]) -> ColumnElement[bool]:
        """The reader holds at least one of `roles`."""

    def is_user(self, column: ColumnElement[str]) -> ColumnElement[bool]:
        """`column` holds the reader's user id."""

    def in_region(self, column: ColumnElement[str | None]) -> ColumnElement[bool]:
        """`column` holds the reader's region (never true for a reader without one)."""


def any_of(*terms: ColumnElement[bool]) -> ColumnElement[bool]:
    """OR of `terms`, folding the constant ones (a caller's role tests) out of the SQL."""
    if any(isinstance(term, True_) for term in terms):
        return true()
    kept = [term for term in terms if not isinstance(term, False_)]
    return or_(false(), *kept) if kept else false()


def all_of(*terms: ColumnElement[bool]) -> ColumnElement[bool]:
    """AND of `terms`, folding the constant ones like `any_of`."""
    if any(isinstance(term, False_) for term in terms):
        return false()
    return and_(true(), *(term for term in terms if not isinstance(term, True_)))


@dataclass(frozen=True)
class OwnedOrRegional:
    """Rows of a table with an owner and a region: all for some roles, the region's, or one's own."""

    owner: str
    region: str
    sees_all: frozenset[Role] = SEES_ALL
    owners: frozenset[Role] = OWNERS
    regional: frozenset[Role] = REGIONAL

    def condition(self, subject: Subject, table: FromClause) -> ColumnElement[bool]:
        """The rows of `table` the subject may see."""
        return any_of(
            subject.holds(self.sees_all),
            all_of(subject.holds(self.owners), subject.is_user(table.c[self.owner])),
            all_of(subject.holds(self.regional), subject.in_region(table.c[self.region])),
        )


@dataclass(frozen=True)
class AnyRole:
    """Rows every reader with a role may see; `own` (a user id column) lets one without see their own."""

    own: str | None = None
    roles: frozenset[Role] = field(default_factory=lambda: frozenset(Role))

    def condition(self, subject: Subject, table: FromClause) -> ColumnElement[bool]:
        """The rows of `table` the subject may see."""
        mine = subject.is_user(table.c[self.own]) if self.own else false()
        return any_of(subject.holds(self.roles), mine)


@dataclass(frozen=True)
class FieldRule:
    """A restricted field: readers holding one of `roles`, and with `or_owner` the row's owner."""

    name: str
    roles: frozenset[Role]
    or_owner: bool = False

    def allows(self, roles: frozenset[Role], user_id: str, *, owner_id: str | None) -> bool:
        """The rule in Python, for the gateway's field permissions."""
        return not roles.isdisjoint(self.roles) or (self.or_owner and owner_id == user_id)

    def condition(self, subject: Subject, owner: ColumnElement[str] | None) -> ColumnElement[bool]:
        """The rule in SQL, for the governed views; `owner` is the row's owner column."""
        if not self.or_owner:
            return subject.holds(self.roles)
        if owner is None:
            raise ValueError(f"the {self.name} rule needs the row's owner")
        return any_of(subject.holds(self.roles), subject.is_user(owner))


DEALS = OwnedOrRegional(owner="owner_id", region="region")
SCOPING_REQUESTS = OwnedOrRegional(owner="requested_by", region="region")
REFERENCE = AnyRole()
USERS = AnyRole(own="id")

MARGINS = FieldRule("margins", MARGIN_VIEWERS)
INCENTIVES = FieldRule("incentives", INCENTIVE_VIEWERS, or_owner=True)
FIELD_RULES = {rule.name: rule for rule in (MARGINS, INCENTIVES)}

RowRule = OwnedOrRegional | AnyRole
