"""Every statement the gateway sends, obtained by calling the real store functions on a recording connection.

`Recorder` stands in for a Connection: it keeps each statement object and answers with no rows, so
a store function runs to its end (or to the NotFound an empty store gives) without a database. The
catalogues below name one call per case; `Ids` supplies the ids and values, placeholders by default
or real ones read from a seeded store (the Spark tier compares results there).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import nullcontext, suppress
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Date, Double, Engine, Integer, Table, select
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import Executable

from auth.principal import Principal
from gateway.core import tables
from gateway.core.columns import ExactDecimal, UtcDateTime
from gateway.core.errors import GatewayError
from gateway.core.roles import Role
from gateway.ops import repair, seed, verify
from gateway.store import (
    approval,
    approval_metrics,
    children,
    claims,
    deal,
    idempotency,
    journal,
    node,
    party,
    persisted_queries,
    pipeline,
    pricing,
    scoping,
    scoping_writes,
    settle,
    sqlfunc,
    user,
)
from gateway.store.audit import Actor
from gateway.store.deal import DealCriteria
from gateway.store.migrate import current_version
from gateway.store.pagination import Page
from gateway.store.writer import Writer
from gateway.workflow import numbers, records

Call = Callable[[Connection], object]


@dataclass(frozen=True)
class Sent:
    """One statement a store function executed, with the parameters it passed (executemany: a list)."""

    statement: Executable
    parameters: Any = None


class NoRows:
    """The answer of an empty store to any statement."""

    def __init__(self, rowcount: int) -> None:
        self.rowcount = rowcount

    def all(self) -> list[Any]:
        return []

    def first(self) -> None:
        return None

    def scalar(self) -> None:
        return None

    def scalar_one(self) -> int:
        return 0

    def scalars(self) -> NoRows:
        return self

    def close(self) -> None:
        pass

    def __iter__(self) -> Iterator[Any]:
        return iter(())


class Recorder:
    """A stand-in Connection that records every statement; `rowcount` is what DML reports."""

    def __init__(self, dialect: Dialect, rowcount: int = 1) -> None:
        self.dialect, self.rowcount = dialect, rowcount
        self.sent: list[Sent] = []
        self.options: dict[str, Any] = {}

    def execute(self, statement: Executable, parameters: Any = None, **_kw: Any) -> NoRows:
        self.sent.append(Sent(statement, parameters))
        return NoRows(self.rowcount)

    def begin_nested(self) -> nullcontext[None]:
        return nullcontext()

    def execution_options(self, **options: Any) -> Recorder:
        self.options.update(options)
        return self

    def get_execution_options(self) -> dict[str, Any]:
        return self.options


def capture(call: Call, dialect: Dialect, rowcount: int = 1) -> list[Sent]:
    """The statements `call` executes against an empty store."""
    recorder = Recorder(dialect, rowcount)
    with suppress(GatewayError):  # NotFound on an empty store ends a call after its read
        call(recorder)  # type: ignore[arg-type]
    return recorder.sent


@dataclass(frozen=True)
class Ids:
    """Ids and values the statements are built with."""

    admin: str = "01900000-0000-7000-8000-000000000001"
    desk: str = "01900000-0000-7000-8000-000000000002"
    seller: str = "01900000-0000-7000-8000-000000000003"
    manager: str = "01900000-0000-7000-8000-000000000004"
    region: str = "EMEA"
    advertiser: str = "01900000-0000-7000-8000-000000000005"
    agency: str = "01900000-0000-7000-8000-000000000006"
    deal: str = "01900000-0000-7000-8000-000000000007"
    other_deal: str = "01900000-0000-7000-8000-000000000008"
    approval: str = "01900000-0000-7000-8000-000000000009"
    scoping: str = "01900000-0000-7000-8000-00000000000a"
    converted_deal: str = "01900000-0000-7000-8000-00000000000b"
    other_advertiser: str = "01900000-0000-7000-8000-00000000000c"
    other_agency: str = "01900000-0000-7000-8000-00000000000d"
    sub: str = "dev|seller.na@dealdesk.example"
    now: dt.datetime = seed.ANCHOR
    pivot: Mapping[str, Any] = field(default_factory=lambda: {
        "id": "01900000-0000-7000-8000-000000000007", "created_at": seed.ANCHOR - dt.timedelta(days=9),
        "updated_at": seed.ANCHOR - dt.timedelta(days=8), "total_value": Decimal("125000.00"),
        "start_date": dt.date(2026, 11, 15), "name": "Northwind Foods: Holiday Push",
    })

    def principal(self, user_id: str, *roles: Role, region: str | None = "NA") -> Principal:
        """A caller bound to `user_id`."""
        return Principal(user_id=user_id, sub=f"sub-{user_id}", email=f"{user_id}@example.com",
                         name=user_id, roles=frozenset(roles), region=region)

    @property
    def admin_p(self) -> Principal:
        """Sees everything."""
        return self.principal(self.admin, Role.ADMIN)

    @property
    def seller_p(self) -> Principal:
        """Sees their own deals."""
        return self.principal(self.seller, Role.SELLER)

    @property
    def manager_p(self) -> Principal:
        """Sees their region's deals and their own."""
        return self.principal(self.manager, Role.SALES_MANAGER, region=self.region)

    @property
    def desk_p(self) -> Principal:
        """Decides DEAL_DESK stages."""
        return self.principal(self.desk, Role.DEAL_DESK)


def ids_from_store(engine: Engine) -> Ids:
    """Real ids from a store seeded by gateway.ops.seed; pivot: a deal of the NA demo seller with actions."""
    t, mail = tables, "@" + seed.DOMAIN
    with engine.connect() as connection:
        by_email = dict(connection.execute(select(t.users.c.email, t.users.c.id)).all())
        seller = by_email["seller.na" + mail]
        acted = select(t.approval_actions.c.deal_id)
        mine = select(t.deals).where(t.deals.c.owner_id == seller, t.deals.c.id.in_(acted),
                                     t.deals.c.agency_id.is_not(None)).order_by(t.deals.c.id)
        pivot = connection.execute(mine.offset(60).limit(1)).one()
        others = select(t.deals).where(t.deals.c.region != pivot.region, t.deals.c.agency_id.is_not(None))
        others = others.order_by(t.deals.c.id)
        other = connection.execute(others.offset(50).limit(1)).one()
        approval_id = connection.execute(select(t.approval_actions.c.approval_id).where(
            t.approval_actions.c.deal_id == pivot.id).limit(1)).scalar_one()
        r = t.deal_scoping_requests.c
        converted = connection.execute(select(r.id, r.converted_deal_id).where(
            r.converted_deal_id.is_not(None), r.region == pivot.region).order_by(r.id).limit(1)).one()
    return Ids(
        admin=by_email["admin" + mail], desk=by_email["desk" + mail], seller=seller,
        manager=by_email[f"manager.{pivot.region.lower()}{mail}"], region=pivot.region,
        advertiser=pivot.advertiser_id, agency=pivot.agency_id, deal=pivot.id, other_deal=other.id,
        other_advertiser=other.advertiser_id, other_agency=other.agency_id,
        approval=approval_id, scoping=converted.id, converted_deal=converted.converted_deal_id,
        sub=f"dev|seller.na{mail}", now=seed.ANCHOR, pivot=dict(pivot._mapping),
    )


# ---------------------------------------------------------------- reads

FILTERS: dict[str, Callable[[Ids], DealCriteria]] = {
    "statuses": lambda i: DealCriteria(statuses=("APPROVED", "PENDING_APPROVAL")),
    "owner_id": lambda i: DealCriteria(owner_id=i.seller),
    "advertiser_id": lambda i: DealCriteria(advertiser_id=i.advertiser),
    "agency_id": lambda i: DealCriteria(agency_id=i.agency),
    "region": lambda i: DealCriteria(region=i.region),
    "min_value": lambda i: DealCriteria(min_value=Decimal("100000.001")),
    "max_value": lambda i: DealCriteria(max_value=Decimal("250000.009")),
    "created_after": lambda i: DealCriteria(created_after=i.now - dt.timedelta(days=12)),
    "created_before": lambda i: DealCriteria(created_before=i.now - dt.timedelta(days=20)),
    "search": lambda i: DealCriteria(search="north"),
    "search_wildcards": lambda i: DealCriteria(search="q4_%"),  # literal: names say "Q4 2026"
    "every_field": lambda i: DealCriteria(
        statuses=("APPROVED", "CLOSED_WON", "PENDING_APPROVAL"), region="NA", min_value=Decimal("1000"),
        max_value=Decimal("5000000"), created_after=i.now - dt.timedelta(days=40),
        created_before=i.now - dt.timedelta(days=2), search="a"),
}
SORT_FIELDS = tuple(deal.SORT_COLUMNS)
ORDERS: dict[str, tuple[tuple[str, bool], ...]] = {
    **{f"{name}_{'desc' if desc else 'asc'}": ((name, desc),)
       for name in SORT_FIELDS for desc in (False, True)},
    "name_asc_value_desc": (("NAME", False), ("TOTAL_VALUE", True)),
}
GROUPINGS = tuple(pipeline.KEYS)
PAGE = 20


def after_pivot(ids: Ids, order: Sequence[tuple[str, bool]]) -> tuple[Any, ...]:
    """Keyset cursor values of the pivot deal in `order` (a page starting right after it)."""
    columns = [deal.SORT_COLUMNS[name][0].key for name, _ in order]
    return (*(ids.pivot[column] for column in columns), ids.pivot["id"])


def _deal_page(ids: Ids, principal: Principal, criteria: DealCriteria,
               order: Sequence[tuple[str, bool]], after: bool) -> Call:
    page = Page(PAGE, after_pivot(ids, order) if after else None)
    return lambda c: deal.get_page(c, principal=principal, criteria=criteria, keys=deal.sort_keys(order),
                                   page=page)


def deal_reads(ids: Ids) -> dict[str, Call]:
    """deals: by id, a page for every filter field and every ordering (first and after a cursor), counts."""
    admin, default = ids.admin_p, deal.DEFAULT_ORDER
    cases: dict[str, Call] = {}
    for who, principal in (("admin", admin), ("seller", ids.seller_p), ("manager", ids.manager_p)):
        cases[f"deal.get_by_ids[{who}]"] = lambda c, p=principal: deal.get_by_ids(
            c, principal=p, ids=[ids.deal, ids.other_deal])
        cases[f"deal.get_page[{who}]"] = _deal_page(ids, principal, DealCriteria(), default, after=False)
        cases[f"deal.count[{who}]"] = lambda c, p=principal: deal.count(
            c, principal=p, criteria=DealCriteria())
    for name, make in FILTERS.items():
        cases[f"deal.get_page[filter={name}]"] = _deal_page(ids, admin, make(ids), default, after=False)
        cases[f"deal.count[filter={name}]"] = lambda c, m=make: deal.count(
            c, principal=admin, criteria=m(ids))
    for name, order in ORDERS.items():
        for after in (False, True):
            label = f"deal.get_page[order={name},{'after' if after else 'first'}]"
            cases[label] = _deal_page(ids, admin, DealCriteria(), order, after)
    cases["deal.get_page[manager,every_field,after]"] = _deal_page(
        ids, ids.manager_p, FILTERS["every_field"](ids), ORDERS["TOTAL_VALUE_desc"], after=True)
    return cases


def window_reads(ids: Ids) -> dict[str, Call]:
    """Per-parent pages of deals (one window statement for many advertisers or agencies), and counts."""
    cases: dict[str, Call] = {}
    parents = {"advertiser_id": [ids.advertiser, ids.other_advertiser],
               "agency_id": [ids.agency, ids.other_agency]}
    for column, parent_ids in parents.items():
        for name in ("CREATED_AT_desc", "NAME_asc"):
            order = ORDERS[name]
            for after in (False, True):
                page = Page(5, after_pivot(ids, order) if after else None)
                label = f"deal.get_pages_by[{column},{name},{'after' if after else 'first'}]"
                who = ids.admin_p if after else ids.manager_p
                cases[label] = lambda c, col=column, pids=parent_ids, o=order, pg=page, p=who: (
                    deal.get_pages_by(c, principal=p, column=col, parent_ids=pids, keys=deal.sort_keys(o),
                                      page=pg))
        cases[f"deal.count_by[{column}]"] = lambda c, col=column, pids=parent_ids: deal.count_by(
            c, principal=ids.seller_p, column=col, parent_ids=pids)
    return cases


def aggregate_reads(ids: Ids) -> dict[str, Call]:
    """pipeline for every grouping (and with a filter), approval metrics with and without a window."""
    cases: dict[str, Call] = {}
    for group in GROUPINGS:
        cases[f"pipeline[{group}]"] = lambda c, g=group: pipeline.buckets(
            c, principal=ids.admin_p, group_by=g, criteria=DealCriteria())
    cases["pipeline[MONTH,manager,filtered]"] = lambda c: pipeline.buckets(
        c, principal=ids.manager_p, group_by="MONTH", criteria=FILTERS["every_field"](ids))
    for who, principal in (("admin", ids.admin_p), ("manager", ids.manager_p)):
        for label, since in (("all", None), ("30d", ids.now - dt.timedelta(days=30))):
            cases[f"metrics[{who},{label}]"] = lambda c, p=principal, s=since: approval_metrics.stage_metrics(
                c, principal=p, since=s, now=ids.now)
    return cases


def other_reads(ids: Ids) -> dict[str, Call]:
    """Node, children, parties, scoping requests, approvals, users, workflow and housekeeping reads."""
    admin, manager = ids.admin_p, ids.manager_p
    cases: dict[str, Call] = {
        "children.tiers": lambda c: children.tiers(c, deal_ids=[ids.deal, ids.other_deal]),
        "children.incentives": lambda c: children.incentives(c, deal_ids=[ids.deal, ids.other_deal]),
        "children.history": lambda c: children.history(c, deal_ids=[ids.deal, ids.other_deal]),
        "children.approvals": lambda c: children.approvals(c, deal_ids=[ids.deal, ids.other_deal]),
        "children.actions": lambda c: children.actions(c, approval_ids=[ids.approval]),
        "children.deal_actions": lambda c: children.deal_actions(c, deal_ids=[ids.deal, ids.other_deal]),
        "approval.get_by_ids": lambda c: approval.get_by_ids(c, principal=manager, ids=[ids.approval]),
        "approval.count_queue[manager]": lambda c: approval.count_queue(c, principal=manager),
        "scoping.get_by_ids": lambda c: scoping.get_by_ids(c, principal=manager, ids=[ids.scoping]),
        "scoping.get_by_deal_ids": lambda c: scoping.get_by_deal_ids(
            c, principal=admin, deal_ids=[ids.deal, ids.converted_deal]),
        "scoping.get_page": lambda c: scoping.get_page(
            c, principal=admin, statuses=(), page=Page(PAGE, None)),
        "scoping.get_page[statuses,after]": lambda c: scoping.get_page(
            c, principal=manager, statuses=("OPEN", "DECLINED"), page=Page(PAGE, (ids.now, ids.scoping))),
        "scoping.count": lambda c: scoping.count(c, principal=manager, statuses=("QUALIFIED",)),
        "user.get_by_ids": lambda c: user.get_by_ids(c, principal=admin, ids=[ids.seller, ids.manager]),
        "user.get_by_sub": lambda c: user.get_by_sub(c, sub=ids.sub),
        "records.deal_for_change": lambda c: records.deal_for_change(
            c, principal=manager, deal_id=ids.deal, field="id"),
        "records.approval_of": lambda c: records.approval_of(c, principal=manager, approval_id=ids.approval),
        "records.approvals_of": lambda c: records.approvals_of(
            c, deal_id=ids.deal, statuses=tables.APPROVAL_STATUSES, round=1),
        "records.approvals_of[every_round]": lambda c: records.approvals_of(c, deal_id=ids.deal),
        "records.scoping_for_change": lambda c: records.scoping_for_change(
            c, principal=admin, request_id=ids.scoping),
        "idempotency.find": lambda c: idempotency.find(c, sub=ids.sub, key="k-1", now=ids.now),
        "claims.committed_steps": lambda c: claims.committed_steps(c, token="claim:t-1"),
        "claims.unfinished": lambda c: claims.unfinished(c, token="claim:t-1"),
        "persisted_queries.find": lambda c: persisted_queries.find(c, sha256="0" * 64, now=ids.now),
        "migrate.current_version": current_version,
        "seed.existing_users": seed.existing_users,
    }
    emea_manager = ids.principal(ids.manager, Role.SALES_MANAGER, region="EMEA")
    for who, principal in (("desk", ids.desk_p), ("manager", emea_manager)):
        cases[f"approval.get_queue_page[{who}]"] = lambda c, p=principal: approval.get_queue_page(
            c, principal=p, page=Page(PAGE, None))
    cases["approval.get_queue_page[desk,after]"] = lambda c: approval.get_queue_page(
        c, principal=ids.desk_p, page=Page(PAGE, (ids.now - dt.timedelta(days=20), ids.approval)))
    for table in (tables.advertisers, tables.agencies):
        name = table.name
        cases[f"party.get_by_ids[{name}]"] = lambda c, t=table: party.get_by_ids(
            c, principal=manager, table=t, ids=[ids.advertiser, ids.agency])
        cases[f"party.get_page[{name}]"] = lambda c, t=table: party.get_page(
            c, principal=manager, table=t, search=None, page=Page(PAGE, None))
        cases[f"party.get_page[{name},search,after]"] = lambda c, t=table: party.get_page(
            c, principal=admin, table=t, search="in", page=Page(PAGE, ("M", ids.advertiser)))
        cases[f"party.count[{name}]"] = lambda c, t=table: party.count(
            c, principal=admin, table=t, search="a")
    for kind, some_id in (("deal", ids.deal), ("approval", ids.approval), ("scoping", ids.scoping),
                          ("user", ids.seller), ("advertiser", ids.advertiser), ("agency", ids.agency)):
        cases[f"node.kind_of[{kind}]"] = lambda c, i=some_id: node.kind_of(c, principal=manager, id=i)
    return cases


def pricing_reads(ids: Ids) -> dict[str, Call]:
    """Pricing guidance: the refresh's SELECT (every segment's figures), and the lookups."""
    segment = pricing.Segment("PRIVATE_MARKETPLACE", "DISPLAY", "NA", "100K_1M")
    requests = [pricing.GuidanceRequest(segment, Decimal("250000.00"), exclude_id=ids.deal),
                pricing.GuidanceRequest(pricing.Segment("PREFERRED_DEAL", "VIDEO", "EMEA", "UNDER_100K"),
                                        Decimal("60000.00"))]
    return {
        "pricing.refresh_statement": lambda c: c.execute(pricing.refresh_statement(ids.now)).all(),
        "pricing.get_segments": lambda c: pricing.get_segments(c, requests=requests),
        "pricing.get_segments_with_similar[manager]": lambda c: pricing.get_segments_with_similar(
            c, principal=ids.manager_p, requests=requests[:1], min_sample=30, similar=5),
        "pricing.get_segments_with_similar[admin,two]": lambda c: pricing.get_segments_with_similar(
            c, principal=ids.admin_p, requests=requests, min_sample=30, similar=5),
    }


def verify_reads(_ids: Ids) -> dict[str, Call]:
    """`deal-desk audit verify`: its window and EXISTS queries."""
    cases: dict[str, Call] = {
        "verify.check_rows": lambda c: verify.check_rows(c, verify.Report()),
        "verify.check_status": lambda c: verify.check_status(c, verify.Report()),
        "verify.unfinished_operations": lambda c: verify.unfinished_operations(c),
        "journal.unfinished": lambda c: journal.unfinished(c, "op-1"),
        "repair.stale": lambda c: repair.stale(c, dt.timedelta(0)),
    }
    for table in (tables.deals, *verify.CHILDREN):
        cases[f"verify.check_deleted[{table.name}]"] = lambda c, t=table: verify.check_deleted(
            c, t, verify.Report())
    for table in verify.CHILDREN:
        cases[f"verify.check_children[{table.name}]"] = lambda c, t=table: verify.check_children(
            c, t, verify.Report())
    return cases


def reads(ids: Ids = Ids()) -> dict[str, Call]:
    """Every read case, by name."""
    return {**deal_reads(ids), **window_reads(ids), **aggregate_reads(ids), **other_reads(ids),
            **pricing_reads(ids), **verify_reads(ids)}


# ---------------------------------------------------------------- writes


class FakeRow:
    """A row as the Writer reads it before a change: attribute access and `_mapping`."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self._mapping = dict(values)

    def __getattr__(self, name: str) -> Any:
        try:
            return self._mapping[name]
        except KeyError:
            raise AttributeError(name) from None


def _journaled(connection: Connection, actor: Actor, deal: FakeRow, ids: Ids,
               claimed: dict[str, Any] | None = None) -> None:
    """A journaled status change with a history row and two approvals, flushed (under a claim, if given)."""
    operation = journal.begin(connection)
    operation.claimed = claimed or {}
    operation.lock(connection, deal, "id")
    writer = Writer(connection, actor)
    writer.update_versioned(tables.deals, deal, deal.version, {"status": "PENDING_APPROVAL"})
    writer.insert(tables.deal_status_history, sample_row(tables.deal_status_history, ids))
    for _ in range(2):
        writer.insert(tables.deal_approvals, sample_row(tables.deal_approvals, ids))
    journal.flush(connection, operation)


def sample_row(table: Table, ids: Ids = Ids()) -> dict[str, Any]:
    """A value of the right Python type for every column of `table`."""
    def value(column: Any) -> Any:
        if isinstance(column.type, UtcDateTime):
            return ids.now
        if isinstance(column.type, ExactDecimal):
            return Decimal("12.5")
        if isinstance(column.type, Date):
            return ids.now.date()
        if isinstance(column.type, Integer):
            return 1
        if isinstance(column.type, Double):
            return 0.5
        if column.name == "active":
            return True
        return str(uuid.uuid4()) if column.name == "id" or column.name.endswith("_id") else column.name
    return {column.name: value(column) for column in table.columns}


def writes(ids: Ids = Ids()) -> dict[str, tuple[Call, int]]:
    """Every write case, by name, with the rowcount the store reports for its DML."""
    actor = Actor(user_id=ids.admin, sub="sub-admin", request_id="r-1", idempotency_key="k-1")
    writer = lambda c: Writer(c, actor)  # noqa: E731
    before = FakeRow(sample_row(tables.deals, ids))
    cases: dict[str, tuple[Call, int]] = {
        f"insert[{table.name}]": (lambda c, t=table: c.execute(t.insert().values(**sample_row(t, ids))), 1)
        for table in tables.metadata.sorted_tables
    }
    cases.update({
        "seed.Batch.write[executemany]": (lambda c: _seed_batch().write(c), 1),
        "seed.insert[audit_log,chunked]": (lambda c: seed.insert(
            c, tables.audit_log, [sample_row(tables.audit_log) for _ in range(40)]), 1),
        "writer.insert": (lambda c: writer(c).insert(tables.advertisers, sample_row(tables.advertisers)), 1),
        "writer.update": (lambda c: writer(c).update(tables.deals, before, {"name": "Renamed"}), 1),
        "writer.update_versioned": (lambda c: writer(c).update_versioned(
            tables.deals, before, 1, {"name": "Renamed", "updated_at": ids.now}), 1),
        "writer.update_if": (lambda c: writer(c).update_if(
            tables.deal_approvals, before, {"status": "APPROVED"}, {"status": "PENDING"}), 1),
        "writer.delete": (lambda c: writer(c).delete(tables.deal_tiers, before), 1),
        "writer.read": (lambda c: writer(c).read(tables.deals, ids.deal), 1),
        "party.create": (lambda c: party.create(c, actor=actor, table=tables.agencies,
                                                values={"name": "Apex", "holding_company": None}), 1),
        "scoping_writes.create": (lambda c: scoping_writes.create(
            c, actor=actor, principal=ids.admin_p, values=sample_row(tables.deal_scoping_requests)), 1),
        "scoping_writes.set_status": (lambda c: scoping_writes.set_status(
            c, actor=actor, principal=ids.admin_p, request_id=ids.scoping, status="IN_REVIEW"), 1),
        "user.create": (lambda c: user.create(c, sub=ids.sub, values={
            "email": "a@b.c", "display_name": "A", "region": "NA", "roles": "SELLER"}), 1),
        "user.update": (lambda c: user.update(c, before=FakeRow(sample_row(tables.users, ids)),
                                              values={"roles": "SELLER"}), 1),
        "numbers.allocate[bump]": (lambda c: numbers.allocate(c, year=2026), 1),
        "sqlfunc.insert_absent[deal_number_counters]": (lambda c: c.execute(sqlfunc.insert_absent(
            c.dialect.name, tables.deal_number_counters, {"year": 2027, "last_value": 0}, key="year")), 1),
        "journal.flush": (lambda c: _journaled(c, actor, before, ids), 1),
        "journal.flush[claimed]": (lambda c: _journaled(c, actor, before, ids, claimed=claims.columns(
            claims.RequestClaim("claim:t-1"), "gateway.workflow.deal.submit#1", None)), 1),
        "claims.free_abandoned": (lambda c: claims.free_abandoned(c, before=ids.now), 1),
        "pricing.refresh": (lambda c: pricing.refresh(c, now=ids.now, stale_before=ids.now), 1),
        "settle.settle[abort]": (lambda c: settle.settle(c, "op-1", None), 1),
        "settle.reapply[update]": (lambda c: settle.reapply(c, FakeRow({
            "table_name": "deals", "row_id": ids.deal, "operation": "UPDATE",
            "before_json": '{"name": "A", "version": 1}', "after_json": '{"name": "B", "version": 2}'})), 1),
        "numbers.allocate[first_of_year]": (lambda c: numbers.allocate(c, year=2027), 0),
        "idempotency.claim": (lambda c: idempotency.claim(c, sub=ids.sub, key="k-1", request_hash="h",
                                                          now=ids.now, ttl=dt.timedelta(hours=24)), 1),
        "idempotency.complete": (lambda c: idempotency.complete(c, sub=ids.sub, key="k-1", status=200,
                                                                body="{}"), 1),
        "idempotency.release": (lambda c: idempotency.release(c, sub=ids.sub, key="k-1"), 1),
        "idempotency.take_over": (lambda c: idempotency.take_over(
            c, sub=ids.sub, key="k-1", token="claim:t-1", claimed_at=ids.now, now=ids.now), 1),
        "idempotency.purge_expired": (lambda c: idempotency.purge_expired(c, now=ids.now), 1),
        "persisted_queries.register": (lambda c: persisted_queries.register(
            c, sha256="0" * 64, document="{ me { id } }", now=ids.now, ttl=dt.timedelta(days=7),
            max_entries=10), 1),
    })
    return cases


def _seed_batch() -> seed.Batch:
    batch = seed.Batch()
    for table in seed.INSERT_ORDER:
        batch[table.name].extend([sample_row(table), sample_row(table)])
    return batch


