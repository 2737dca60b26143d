"""Deterministic demo data: N months of Deal Desk history ending at a fixed anchor."""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import math
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import Connection, Engine, Table, func, select

from auth.dev import subject
from gateway.core import tables as t
from gateway.core.ids import uuid7_at
from gateway.store import changes, governance
from gateway.store.audit import to_json
from gateway.workflow.rules import DUE_HOURS, ESCALATE_TO, REMIND_BEFORE_HOURS, required_stages

Row = dict[str, Any]

ANCHOR = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
DEALS_PER_MONTH = 1000
FULL_SCALE = 84
REGIONS = ("NA", "EMEA", "APAC", "LATAM")
REGION_WEIGHTS = (45, 30, 15, 10)
ROLES = (
    "SELLER", "SALES_MANAGER", "DEAL_DESK", "FINANCE", "LEGAL", "EXECUTIVE", "ANALYST", "ADMIN",
)
CHANNELS = ("DISPLAY", "VIDEO", "CTV", "AUDIO", "DOOH", "NATIVE")
DOMAIN = "dealdesk.example"
SECOND = dt.timedelta(seconds=1)

DEMO_USERS: tuple[tuple[str, str, str], ...] = (
    (f"admin@{DOMAIN}", "ADMIN", "NA"),
    (f"desk@{DOMAIN}", "DEAL_DESK", "NA"),
    (f"finance@{DOMAIN}", "FINANCE", "NA"),
    (f"legal@{DOMAIN}", "LEGAL", "NA"),
    (f"exec@{DOMAIN}", "EXECUTIVE", "NA"),
    (f"analyst@{DOMAIN}", "ANALYST", "NA"),
    *(
        (f"{kind}.{region.lower()}@{DOMAIN}", role, region)
        for region in REGIONS
        for kind, role in (("manager", "SALES_MANAGER"), ("seller", "SELLER"))
    ),
)
"""Fixed users present at every scale: (email, role, region); dev tokens for these emails work."""

INSERT_ORDER: tuple[Table, ...] = (
    t.users, t.advertisers, t.agencies, t.deals, t.deal_tiers, t.incentive_values,
    t.deal_approvals, t.approval_actions, t.deal_status_history, t.deal_scoping_requests,
)

# Role mix of the generated (non-demo) users, as weights.
ROLE_WEIGHTS = (52, 10, 10, 6, 5, 3, 10, 4)
DECISION_HOURS = {
    "SALES_MANAGER": 5.0, "DEAL_DESK": 10.0, "FINANCE": 16.0, "LEGAL": 22.0, "EXECUTIVE": 14.0,
}
CHANNEL_CPM = {"DISPLAY": 4, "VIDEO": 18, "CTV": 30, "AUDIO": 10, "DOOH": 12, "NATIVE": 8}
CURRENCIES = {
    "NA": (("USD", 90), ("CAD", 10)),
    "EMEA": (("EUR", 55), ("GBP", 30), ("USD", 15)),
    "APAC": (("USD", 50), ("AUD", 30), ("SGD", 20)),
    "LATAM": (("USD", 100),),
}

FIRST_NAMES = (
    "Ada", "Ben", "Carla", "Dev", "Elena", "Femi", "Grace", "Hiro", "Ines", "Jonas", "Kavya", "Liam",
    "Maya", "Nico", "Olga", "Pedro", "Quinn", "Rosa", "Sam", "Tara", "Umar", "Vera", "Wei", "Ximena",
    "Yusuf", "Zoe", "Aiko", "Bruno", "Chloe", "Diego", "Emma", "Farah", "Gabriel", "Hana", "Ivan",
    "Julia", "Kenji", "Lucia", "Mateo", "Nadia", "Omar", "Priya", "Rafael", "Sofia", "Tomas", "Uma",
    "Victor", "Wen", "Yara", "Zane", "Amara", "Boris", "Camila", "Daniel", "Esther", "Felix",
)
LAST_NAMES = (
    "Adams", "Banerjee", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Hoffmann", "Ito",
    "Jensen", "Kowalski", "Lopez", "Martin", "Nakamura", "Okafor", "Petrov", "Quispe", "Rossi",
    "Silva", "Tanaka", "Ueda", "Vargas", "Walker", "Xu", "Yilmaz", "Zhang", "Ahmed", "Brown",
    "Chen", "Diaz", "Evans", "Flores", "Gupta", "Hughes", "Iyer", "Johnson", "Kim", "Lee", "Moreau",
    "Novak", "Olsen", "Park", "Reyes", "Schmidt", "Torres", "Usman", "Weber", "Young", "Ziegler",
)
BRAND_WORDS = (
    "Northwind", "Contoso", "Blue Harbor", "Summit", "Evergreen", "Brightline", "Cedar", "Atlas",
    "Redwood", "Silverleaf", "Horizon", "Ironclad", "Lumen", "Maple", "Nimbus", "Orchid", "Pioneer",
    "Quarry", "Riverstone", "Solstice", "Tidewater", "Unity", "Vantage", "Willow", "Zenith",
    "Aurora", "Beacon", "Cobalt", "Driftwood", "Ember", "Fjord", "Granite", "Harvest", "Juniper",
    "Kestrel", "Lighthouse", "Meridian", "Northstar", "Oakridge", "Polaris", "Sequoia", "Trailhead",
)
BRAND_KINDS = (
    ("Foods", "CPG"), ("Beverages", "CPG"), ("Motors", "Automotive"), ("Telecom", "Telecom"),
    ("Beauty", "Beauty"), ("Bank", "Financial Services"), ("Insurance", "Financial Services"),
    ("Airlines", "Travel"), ("Hotels", "Travel"), ("Pharma", "Healthcare"), ("Health", "Healthcare"),
    ("Retail", "Retail"), ("Apparel", "Retail"), ("Games", "Entertainment"),
    ("Studios", "Entertainment"), ("Electronics", "Technology"), ("Software", "Technology"),
    ("Energy", "Energy"), ("Home", "Home & Garden"), ("Sports", "Sports"),
)
BRAND_SUFFIXES = ("", " Group", " Co.", " Brands", " International")
AGENCY_WORDS = (
    "Amber", "Basalt", "Cinder", "Delta", "Echo", "Flint", "Gable", "Helix", "Indigo", "Jasper",
    "Kite", "Lattice", "Mosaic", "Nova", "Onyx", "Prism", "Quill", "Rally", "Sable", "Tandem",
    "Umbra", "Vivid", "Wren", "Axis", "Bolt", "Canvas", "Dune", "Ether", "Forge", "Glyph", "Halo",
    "Ion", "Jolt", "Kindred", "Loom", "Magnet", "Nexus", "Orbit", "Pulse", "Quartz", "Ripple",
    "Spark", "Tempo", "Uplift", "Vector", "Wave", "Apex", "Blaze", "Crest", "Drum", "Ember Lane",
    "Fable", "Grove", "Hatch", "Inkwell", "Jigsaw", "Keel", "Lark", "Mint", "Nectar", "Opal",
    "Pilot", "Relay", "Stride",
)
AGENCY_KINDS = (
    "Media", "Digital", "Partners", "Collective", "Worldwide", "Labs", "Interactive", "Group",
    "Studio",
)
HOLDINGS = (
    ("WPP", 22), ("Omnicom", 18), ("Publicis Groupe", 18), ("Interpublic", 12), ("Dentsu", 10),
    ("Havas", 8), ("Stagwell", 4), (None, 8),
)
CAMPAIGNS = (
    "Brand Awareness", "Product Launch", "Holiday Push", "Back to School", "Always-On",
    "Summer Campaign", "Retargeting", "Upfront Commitment", "Sponsorship", "Performance Drive",
)
TERMS = (
    "Net 90 payment terms instead of Net 30.",
    "Client may cancel with 7 days notice (standard is 30).",
    "Category exclusivity for the campaign flight.",
    "Third-party viewability guarantee of 80% with makegoods.",
    "Most-favoured-nation pricing clause.",
    "Client-selected brand-safety vendor and audit rights.",
    "Data usage restricted to the campaign; no retargeting pools.",
)
NOTES = (
    "Renewal of last year's commitment.",
    "Competitive bid against two other exchanges.",
    "Client wants first-look inventory on premium CTV.",
    "Pricing aligned with the agency's holding-company agreement.",
    "Pilot; expansion expected if KPIs are met.",
)
COMMENTS = (
    "Can you confirm the rebate is capped?",
    "Margin looks thin on the top tier; is the volume committed?",
    "Attached the client's IO for reference.",
    "Checked against the rate card, looks fine.",
    "Please add the makegood terms to the notes.",
    "Who signs on the client side?",
    "Agency confirmed the flight dates.",
    "Flagging for the quarterly review.",
)
CHANGE_REASONS = (
    "Tier 3 margin is below floor; please rework the bands.",
    "Incentives exceed the agreed cap; reduce the rebate.",
    "Missing agency contact and signed IO.",
    "Flight dates do not match the scoping brief.",
    "Non-standard terms need the client's redlines attached.",
)
REJECT_REASONS = (
    "Pricing below the regional floor.",
    "Advertiser is on credit hold.",
    "Inventory not available for the requested flight.",
    "Terms are not acceptable to Legal.",
)


@dataclass(frozen=True)
class DemoUser:
    """A seeded user as the generator needs it."""

    id: str
    region: str
    roles: tuple[str, ...]


@dataclass(frozen=True)
class Party:
    """An advertiser or agency: id, display name and region."""

    id: str
    name: str
    region: str


class Picker:
    """Weighted random choice over a fixed list, with precomputed cumulative weights."""

    def __init__(self, items: Sequence[Any], weights: Sequence[float]) -> None:
        self.items = list(items)
        self.cumulative = list(itertools.accumulate(weights))

    def pick(self, rng: random.Random) -> Any:
        """One item, drawn by weight."""
        point = rng.random() * self.cumulative[-1]
        return self.items[bisect.bisect_right(self.cumulative, point)]


def zipf(count: int) -> list[float]:
    """Weights that make a few items popular and most rare."""
    return [1 / (rank + 1) ** 0.8 for rank in range(count)]


@dataclass
class Cast:
    """The seeded people and companies, arranged for quick weighted picks."""

    users: list[DemoUser]
    owners: Picker
    managers: dict[str, list[DemoUser]]
    holders: dict[str, list[DemoUser]]
    advertisers: dict[str, Picker]
    agencies: dict[str, Picker]

    def decider(self, stage: str, region: str, owner: DemoUser, rng: random.Random) -> DemoUser:
        """A holder of the stage's role (a manager of the region for SALES_MANAGER), not the owner."""
        pool = self.managers[region] if stage == "SALES_MANAGER" else self.holders[stage]
        # Terminates: an owner who is a manager always has a peer manager in the region.
        while (user := rng.choice(pool)) == owner:
            pass
        return user

    def advertiser(self, region: str, rng: random.Random) -> Party:
        """An advertiser, usually of `region`."""
        local = rng.random() < 0.7 and region in self.advertisers
        party: Party = self.advertisers[region if local else "*"].pick(rng)
        return party

    def agency(self, region: str, rng: random.Random) -> Party | None:
        """An agency, usually of `region`; a quarter of deals are direct."""
        if rng.random() < 0.25:
            return None
        local = rng.random() < 0.7 and region in self.agencies
        party: Party = self.agencies[region if local else "*"].pick(rng)
        return party


@dataclass
class Seeding:
    """Shared state of one seeding run."""

    rng: random.Random
    cast: Cast
    numbers: dict[int, int] = field(default_factory=dict)

    def uid(self, moment: dt.datetime) -> str:
        """A UUIDv7 for `moment`, from the run's random stream."""
        return uuid7_at(moment, self.rng)

    def deal_number(self, created: dt.datetime) -> str:
        """The next DD-<year>-<running number> of the creation year."""
        self.numbers[created.year] = self.numbers.get(created.year, 0) + 1
        return f"DD-{created.year}-{self.numbers[created.year]:06d}"


class Batch(dict[str, list[Row]]):
    """Rows to insert, per table name, in foreign-key order."""

    def __init__(self) -> None:
        super().__init__((table.name, []) for table in INSERT_ORDER)

    def write(self, connection: Connection) -> None:
        """Insert every row, table by table."""
        for table in INSERT_ORDER:
            if self[table.name]:
                insert(connection, table, self[table.name])

    def counts(self) -> dict[str, int]:
        """Rows held, per table name."""
        return {name: len(rows) for name, rows in self.items()}


def insert(connection: Connection, table: Table, rows: list[Row]) -> None:
    """Insert `rows`: executemany, or on Databricks multi-row INSERTs within its 255 parameters each."""
    if connection.dialect.name == "databricks":  # ~100 ms per statement there: one per row would crawl
        changes.insert_rows(connection, table, rows)
    else:
        connection.execute(table.insert(), rows)


SEED_SUB = "system|seed"
SEED_USER_ID = "00000000-0000-7000-8000-000000000000"  # the seed is no person: it has no users row


@dataclass
class Trail:
    """Audit records of what the seed inserts: each row's final state as its INSERT, by `system|seed`.

    Its own random stream keeps the seeded rows the same as without it.
    """

    rng: random.Random

    def write(self, connection: Connection, batch: Batch, moment: dt.datetime) -> None:
        """Audit every row of `batch` as one operation, in the batch's transaction."""
        operation = uuid7_at(moment, self.rng)
        records = [self.record(table, row, operation, moment) for table in INSERT_ORDER
                   for row in batch[table.name]]
        if records:
            insert(connection, t.audit_log, records)

    def record(self, table: Table, row: Row, operation: str, moment: dt.datetime) -> Row:
        """The INSERT record of `row`, dated when the row came to be (`moment` for rows without a date)."""
        at = row.get("created_at") or row.get("changed_at") or moment
        return {
            "id": uuid7_at(at, self.rng), "operation_id": operation, "occurred_at": at,
            "actor_user_id": SEED_USER_ID, "actor_sub": SEED_SUB, "table_name": table.name,
            "row_id": row["id"], "operation": "INSERT", "before_json": None, "after_json": to_json(row),
        }


# ---------------------------------------------------------------- small helpers


def weighted(rng: random.Random, pairs: Sequence[tuple[Any, float]]) -> Any:
    """One value of `(value, weight)` pairs."""
    return rng.choices([value for value, _ in pairs], [weight for _, weight in pairs])[0]


def hours(rng: random.Random, median: float, sigma: float = 1.0) -> dt.timedelta:
    """A log-normal delay around `median` hours, whole seconds, at least five minutes."""
    seconds = max(300, round(rng.lognormvariate(math.log(median * 3600), sigma)))
    return dt.timedelta(seconds=seconds)


def between(rng: random.Random, start: dt.datetime, end: dt.datetime) -> dt.datetime:
    """A whole-second instant strictly inside (start, end); `start` when there is no room."""
    span = int((end - start).total_seconds())
    return start + dt.timedelta(seconds=rng.randint(1, span - 1)) if span > 1 else start


def money(value: float, step: int = 1) -> Decimal:
    """`value` rounded to a multiple of `step`; to the cent when `step` is 1."""
    if step == 1:
        return Decimal(str(round(value, 2))).quantize(Decimal("0.01"))
    return Decimal(max(step, round(value / step) * step)).quantize(Decimal("0.01"))


def nice(value: float) -> int:
    """`value` rounded to two significant digits."""
    digits = max(0, int(math.log10(value)) - 1)
    return round(value / 10**digits) * 10**digits


def add_months(moment: dt.datetime, months: int) -> dt.datetime:
    """The first of the month `months` after the month of `moment`."""
    index = moment.year * 12 + moment.month - 1 + months
    return moment.replace(year=index // 12, month=index % 12 + 1, day=1)


# ---------------------------------------------------------------- reference data


def reference_sizes(scale: int) -> tuple[int, int, int]:
    """(users, advertisers, agencies) for `scale`, growing to 500/2000/500 at 84 months."""
    share = min(1.0, (scale - 1) / (FULL_SCALE - 1))
    return round(30 + 470 * share), round(75 + 1925 * share), round(20 + 480 * share)


def user_row(rng: random.Random, email: str, name: str, role: str, region: str,
             born: dt.datetime, active: bool = True) -> Row:
    """A users row whose sub matches what dev tokens carry for `email`."""
    return {
        "id": uuid7_at(born, rng), "sub": subject(email), "email": email,
        "display_name": name, "region": region, "roles": role, "active": active,
        "created_at": born, "updated_at": born,
    }


def demo_user_rows(rng: random.Random, born: dt.datetime) -> list[Row]:
    """The fixed DEMO_USERS."""
    rows = []
    for email, role, region in DEMO_USERS:
        label = role.replace("_", " ").title()
        name = f"Demo {label}" + (f" {region}" if role in ("SELLER", "SALES_MANAGER") else "")
        rows.append(user_row(rng, email, name, role, region, born))
    return rows


def people_names(rng: random.Random) -> Iterator[tuple[str, str]]:
    """Endless unique (display name, email) pairs."""
    seen: set[str] = set()
    while True:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        email, number = f"{first}.{last}@{DOMAIN}".lower(), 2
        while email in seen:
            email, number = f"{first}.{last}{number}@{DOMAIN}".lower(), number + 1
        seen.add(email)
        yield f"{first} {last}", email


def before(rng: random.Random, start: dt.datetime, max_days: int) -> dt.datetime:
    """A whole-second instant up to `max_days` before `start`."""
    return start - dt.timedelta(days=rng.randint(1, max_days), seconds=rng.randint(0, 86399))


def generated_user_rows(rng: random.Random, count: int, start: dt.datetime) -> list[Row]:
    """`count` more users of every role and region; a few inactive."""
    names, rows = people_names(rng), []
    for _ in range(count):
        name, email = next(names)
        role = rng.choices(ROLES, ROLE_WEIGHTS)[0]
        region = rng.choices(REGIONS, REGION_WEIGHTS)[0]
        born = before(rng, start, 900)
        rows.append(user_row(rng, email, name, role, region, born, rng.random() > 0.03))
    return rows


def party_rows(rng: random.Random, names: list[str], start: dt.datetime,
               extra: Callable[[str], Row]) -> list[Row]:
    """Advertiser or agency rows for `names`, created before the history starts."""
    rows = []
    for index, name in enumerate(names):
        born = before(rng, start, 1200)
        region = REGIONS[index] if index < len(REGIONS) else rng.choices(REGIONS, REGION_WEIGHTS)[0]
        row = {"id": uuid7_at(born, rng), "name": name, "region": region}
        rows.append(row | extra(name) | {"created_at": born, "updated_at": born})
    return rows


def advertiser_rows(rng: random.Random, count: int, start: dt.datetime) -> list[Row]:
    """`count` advertisers with distinct names."""
    combos = [(word, kind, suffix) for word in BRAND_WORDS for kind in BRAND_KINDS
              for suffix in BRAND_SUFFIXES]
    industry = {f"{w} {k[0]}{s}": k[1] for w, k, s in rng.sample(combos, count)}
    return party_rows(rng, list(industry), start, lambda name: {"industry": industry[name]})


def agency_rows(rng: random.Random, count: int, start: dt.datetime) -> list[Row]:
    """`count` agencies with distinct names, most inside a holding company."""
    names = rng.sample([f"{word} {kind}" for word in AGENCY_WORDS for kind in AGENCY_KINDS], count)
    return party_rows(rng, names, start, lambda _: {"holding_company": weighted(rng, HOLDINGS)})


def parties(rows: list[Row]) -> dict[str, Picker]:
    """Zipf pickers per region and over all ("*")."""
    found = [Party(row["id"], row["name"], row["region"]) for row in rows]
    groups = {"*": found} | {r: [p for p in found if p.region == r] for r in REGIONS}
    return {key: Picker(group, zipf(len(group))) for key, group in groups.items() if group}


def owner_picker(users: list[DemoUser], rng: random.Random) -> Picker:
    """Sellers (some busier than others) and, rarely, managers of regions with a peer manager."""
    sellers = [u for u in users if "SELLER" in u.roles]
    managers = [u for u in users if "SALES_MANAGER" in u.roles]
    peered = [m for m in managers if sum(o.region == m.region for o in managers) > 1]
    weights = [rng.uniform(0.3, 1.7) for _ in sellers] + [0.08] * len(peered)
    return Picker(sellers + peered, weights)


def build_cast(rng: random.Random, batch: Batch, users: list[Row]) -> Cast:
    """Arrange the reference rows for picking; inactive users take no part in deals."""
    people = [DemoUser(r["id"], r["region"], tuple(r["roles"].split(","))) for r in users if r["active"]]
    holders = {role: [u for u in people if role in u.roles] for role in ROLES}
    managers = {r: [u for u in holders["SALES_MANAGER"] if u.region == r] for r in REGIONS}
    return Cast(people, owner_picker(people, rng), managers, holders,
                parties(batch["advertisers"]), parties(batch["agencies"]))


def reference_batch(rng: random.Random, scale: int, start: dt.datetime,
                    existing: dict[str, str]) -> tuple[Batch, Cast]:
    """Users, advertisers and agencies; users whose sub already exists keep their row and id."""
    n_users, n_advertisers, n_agencies = reference_sizes(scale)
    users = demo_user_rows(rng, start - dt.timedelta(days=1000))
    users += generated_user_rows(rng, n_users - len(users), start)
    for row in users:
        row["id"] = existing.get(row["sub"], row["id"])
    batch = Batch()
    batch["users"] = [row for row in users if row["sub"] not in existing]
    batch["advertisers"] = advertiser_rows(rng, n_advertisers, start)
    batch["agencies"] = agency_rows(rng, n_agencies, start)
    return batch, build_cast(rng, batch, users)


# ---------------------------------------------------------------- deal content


def deal_value(rng: random.Random) -> Decimal:
    """A total value: log-normal around 260K, with a thin tail of multi-million deals."""
    if rng.random() < 0.012:
        value = math.exp(rng.uniform(math.log(1.5e6), math.log(1.5e7)))
    else:
        value = max(5000.0, rng.lognormvariate(math.log(260_000), 1.0))
    if rng.random() < 0.1:
        return money(value)
    return money(value, 5000 if value >= 100_000 else 1000)


def pick_channels(rng: random.Random) -> list[str]:
    """One to three channels, in contract order."""
    chosen = set(rng.sample(CHANNELS, rng.choices((1, 2, 3), (45, 35, 20))[0]))
    return [channel for channel in CHANNELS if channel in chosen]


def rate(value: float) -> Decimal:
    """`value` as a Decimal with two places."""
    return Decimal(str(round(value, 2))).quantize(Decimal("0.01"))


def tier_bounds(total: Decimal, count: int) -> list[Decimal]:
    """Increasing lower bounds of `count` spend bands below `total`, starting at zero."""
    step = float(total) / count
    unit = Decimal(nice(step)) if step >= 100 else rate(step)
    return [unit * index for index in range(count)]


def tier_rows(ctx: Seeding, deal: Row, channels: list[str]) -> list[Row]:
    """Non-overlapping tiers: CPM and margin fall as spend grows."""
    rng, total = ctx.rng, deal["total_value"]
    bounds = tier_bounds(total, rng.choices((1, 2, 3, 4, 5), (10, 20, 35, 25, 10))[0])
    cpm = CHANNEL_CPM[channels[0]] * rng.uniform(0.7, 1.4)
    margin = float(deal["target_margin_pct"] or 32) + rng.uniform(-2, 5)
    rows = []
    for index, low in enumerate(bounds):
        last = index + 1 == len(bounds)
        high = (total if rng.random() < 0.4 else None) if last else bounds[index + 1] - CENT
        tier_margin = None if rng.random() < 0.04 else rate(max(3.0, margin - index * rng.uniform(1, 4)))
        rows.append({
            "id": ctx.uid(deal["created_at"]), "deal_id": deal["id"], "tier_number": index + 1,
            "min_spend": low, "max_spend": high, "cpm": rate(cpm * 0.94**index),
            "margin_pct": tier_margin,
        })
    return rows


def incentive_value(rng: random.Random, unit: str, total: Decimal) -> Decimal:
    """A positive value in `unit`: small percentages, a few percent of the deal, or impressions."""
    if unit == "PERCENT":
        return Decimal(rng.randrange(5, 65, 5)) / 10
    if unit == "AMOUNT":
        return money(float(total) * rng.uniform(0.01, 0.05), 100)
    return Decimal(rng.randrange(50, 5000) * 1000)


def incentive_rows(ctx: Seeding, deal: Row) -> list[Row]:
    """Zero to four incentives, about two on average."""
    rng, rows = ctx.rng, []
    for position in range(1, rng.choices(range(5), (15, 20, 30, 20, 15))[0] + 1):
        kind = weighted(rng, INCENTIVE_WEIGHTS)
        unit = weighted(rng, INCENTIVE_UNITS[kind])
        rows.append({
            "id": ctx.uid(deal["created_at"]), "deal_id": deal["id"], "position": position,
            "type": kind, "unit": unit, "value": incentive_value(rng, unit, deal["total_value"]),
            "description": f"{kind.replace('_', ' ').capitalize()} ({unit.lower()})",
            "created_at": deal["created_at"],
        })
    return rows


def deal_row(ctx: Seeding, owner: DemoUser, advertiser: Party, created: dt.datetime) -> Row:
    """A deal as created (DRAFT, version 1); its lifecycle then moves status and version on."""
    rng = ctx.rng
    channels = pick_channels(rng)
    start = created.date() + dt.timedelta(days=rng.randint(5, 60))
    agency = ctx.cast.agency(owner.region, rng)
    target = None if rng.random() < 0.06 else Decimal(rng.randrange(1500, 4600, 25)) / 100
    quarter = f"Q{(start.month - 1) // 3 + 1} {start.year}"
    return {
        "id": ctx.uid(created), "deal_number": ctx.deal_number(created),
        "name": f"{advertiser.name} {quarter} {rng.choice(CAMPAIGNS)}", "status": "DRAFT",
        "deal_type": weighted(rng, DEAL_TYPE_WEIGHTS), "channels": ",".join(channels),
        "region": owner.region, "currency": weighted(rng, CURRENCIES[owner.region]),
        "total_value": deal_value(rng), "start_date": start,
        "end_date": start + dt.timedelta(days=rng.randint(14, 365)), "target_margin_pct": target,
        "floor_cpm": None if rng.random() < 0.1 else rate(CHANNEL_CPM[channels[0]] * 0.6),
        "non_standard_terms": rng.choice(TERMS) if rng.random() < 0.4 else None,
        "notes": rng.choice(NOTES) if rng.random() < 0.4 else None, "version": 1,
        "owner_id": owner.id, "advertiser_id": advertiser.id, "agency_id": agency and agency.id,
        "created_at": created, "updated_at": created, "submitted_at": None,
    }


def stages_for(deal: Row, tiers: list[Row], incentives: list[Row]) -> list[str]:
    """The approval chain the default rules give this deal."""
    return required_stages(
        total_value=deal["total_value"],
        target_margin_pct=deal["target_margin_pct"],
        tier_margins=[tier["margin_pct"] for tier in tiers],
        percent_incentives=[i["value"] for i in incentives if i["unit"] == "PERCENT"],
        non_standard_terms=deal["non_standard_terms"],
    )


# ---------------------------------------------------------------- lifecycle


class Horizon(Exception):
    """The deal's next event would fall at or after the anchor: the deal stays as it is now."""


@dataclass(frozen=True)
class Turn:
    """How a PENDING stage ended: the action, who took it, and why."""

    action: str
    actor: DemoUser
    comment: str | None


@dataclass
class Lifecycle:
    """Plays one deal forward from its creation, recording approvals, actions and history."""

    ctx: Seeding
    deal: Row
    owner: DemoUser
    stages: list[str]
    now: dt.datetime
    round: int = 0
    approvals: list[Row] = field(default_factory=list)
    actions: list[Row] = field(default_factory=list)
    history: list[Row] = field(default_factory=list)

    def run(self, reason: str) -> None:
        """Creation, edits, approval rounds and, for approved deals, the close; stops at the anchor."""
        rng = self.ctx.rng
        self.move("DRAFT", self.owner, reason)
        try:
            self.edit(rng.choices(range(4), (40, 30, 20, 10))[0], 6)
            if rng.random() < 0.05:
                self.abandon()
                return
            self.advance(hours(rng, 20))
            self.submit()
            if self.approval_rounds() == "APPROVED":
                self.close()
        except Horizon:
            pass

    def advance(self, delay: dt.timedelta) -> None:
        """Move the clock on by `delay`; Horizon when that reaches the anchor."""
        if self.now + delay >= ANCHOR:
            raise Horizon
        self.now += delay

    def move(self, to_status: str, by: DemoUser, reason: str | None) -> None:
        """A status change of the deal, with its history row."""
        from_status = self.deal["status"] if self.history else None
        self.history.append({
            "id": self.ctx.uid(self.now), "deal_id": self.deal["id"], "from_status": from_status,
            "to_status": to_status, "changed_by": by.id, "reason": reason, "changed_at": self.now,
        })
        if from_status is not None:
            self.touch()
        self.deal["status"] = to_status

    def touch(self) -> None:
        """Every change of the deal row bumps its version."""
        self.deal["version"] += 1
        self.deal["updated_at"] = self.now

    def edit(self, count: int, median_hours: float) -> None:
        """`count` edits of the deal, each some hours after the last."""
        for _ in range(count):
            self.advance(hours(self.ctx.rng, median_hours))
            self.touch()

    def abandon(self) -> None:
        """A draft never submitted: left as it is, or withdrawn weeks later."""
        if self.ctx.rng.random() < 0.45:
            self.advance(hours(self.ctx.rng, 24 * 14))
            self.move("WITHDRAWN", self.owner, "No longer pursued.")

    def desk_or_owner(self, owner_share: float) -> DemoUser:
        """The owner, or now and then a deal-desk user acting for them."""
        rng = self.ctx.rng
        return self.owner if rng.random() < owner_share else rng.choice(self.ctx.cast.holders["DEAL_DESK"])

    def submit(self) -> None:
        """A new approval round: the status change, then one approval per stage, the first PENDING."""
        resubmit = self.deal["status"] == "CHANGES_REQUESTED"
        self.move("PENDING_APPROVAL", self.desk_or_owner(0.93), "Resubmitted." if resubmit else None)
        self.round += 1
        self.deal["submitted_at"] = self.now
        for sequence, stage in enumerate(self.stages, start=1):
            self.approvals.append({
                "id": self.ctx.uid(self.now), "deal_id": self.deal["id"], "round": self.round,
                "stage": stage, "sequence": sequence, "step": sequence, "status": "WAITING",
                "activated_at": None, "due_at": None, "decided_by": None, "decided_at": None,
                "created_at": self.now, "due_hours": DUE_HOURS, "remind_before_hours": REMIND_BEFORE_HOURS,
                "escalate_to": ESCALATE_TO, "terms_digest": None, "carried_over_from": None,
            })
        self.activate(self.approvals[-len(self.stages)])

    def activate(self, approval: Row) -> None:
        """Make `approval` the PENDING stage, due 48 hours from now."""
        approval.update(status="PENDING", activated_at=self.now, due_at=self.now + DUE_AFTER)

    def approval_rounds(self) -> str:
        """Rounds until one ends other than in CHANGES_REQUESTED, or the owner stops resubmitting."""
        rng = self.ctx.rng
        while (outcome := self.run_round()) == "CHANGES_REQUESTED":
            roll = rng.random()
            if roll >= 0.95:
                return outcome
            if roll >= 0.87:
                self.advance(hours(rng, 72))
                self.move("WITHDRAWN", self.owner, "Client went another way.")
                return "WITHDRAWN"
            self.edit(rng.randint(1, 3), 10)
            self.advance(hours(rng, 4))
            self.submit()
        return outcome

    def run_round(self) -> str:
        """Take the current chain stage by stage; return the deal status it ends in."""
        chain = self.approvals[-len(self.stages):]
        for index, approval in enumerate(chain):
            turn = self.stage_turn(approval)
            if turn.action == "APPROVE" and index + 1 < len(chain):
                self.activate(chain[index + 1])
                continue
            for later in chain[index + 1:]:
                later["status"] = "CANCELLED"
            status = STATUS_AFTER[turn.action]
            self.move(status, turn.actor, turn.comment if status != "APPROVED" else "All stages approved.")
            return status
        raise AssertionError("a chain always has a SALES_MANAGER stage")

    def stage_turn(self, approval: Row) -> Turn:
        """Comments while the stage is pending, then its decision, or the deal's withdrawal."""
        rng, stage = self.ctx.rng, approval["stage"]
        action = weighted(rng, decision_weights(self.round))
        delay = hours(rng, DECISION_HOURS[stage])
        self.comments(approval, min(self.now + delay, ANCHOR))
        self.advance(delay)
        if action == "WITHDRAW":
            approval["status"] = "CANCELLED"
            return Turn(action, self.owner, "Withdrawn by the owner.")
        decider = self.ctx.cast.decider(stage, self.deal["region"], self.owner, rng)
        approval.update(status=APPROVAL_AFTER[action], decided_by=decider.id, decided_at=self.now)
        comment = decision_comment(rng, action)
        self.action(approval, action, decider, comment, self.now)
        return Turn(action, decider, comment)

    def comments(self, approval: Row, end: dt.datetime) -> None:
        """A few COMMENT actions on `approval` between now and `end`, by the owner or an approver."""
        rng, cast = self.ctx.rng, self.ctx.cast
        count = rng.choices(range(4), (60, 30, 8, 2))[0]
        for moment in sorted(between(rng, self.now, end) for _ in range(count)):
            author = self.owner if rng.random() < 0.5 else cast.decider(
                approval["stage"], self.deal["region"], self.owner, rng)
            self.action(approval, "COMMENT", author, rng.choice(COMMENTS), moment)

    def action(self, approval: Row, kind: str, actor: DemoUser, comment: str | None,
               moment: dt.datetime) -> None:
        """An approval_actions row."""
        self.actions.append({
            "id": self.ctx.uid(moment), "approval_id": approval["id"], "deal_id": self.deal["id"],
            "action": kind, "actor_id": actor.id, "comment": comment, "created_at": moment,
        })

    def close(self) -> None:
        """Most approved deals close won or lost some days later; a few are withdrawn or stay open."""
        rng = self.ctx.rng
        outcome = weighted(rng, CLOSE_OUTCOMES)
        if outcome is None:
            return
        self.advance(hours(rng, 24 * 12, 0.9))
        self.move(outcome, self.desk_or_owner(0.85), CLOSE_REASONS[outcome])


DUE_AFTER = dt.timedelta(hours=float(DUE_HOURS))
CENT = Decimal("0.01")
DEAL_TYPE_WEIGHTS = tuple(zip(t.DEAL_TYPES, (30, 25, 35, 10), strict=True))
STATUS_AFTER = {
    "APPROVE": "APPROVED", "REJECT": "REJECTED", "REQUEST_CHANGES": "CHANGES_REQUESTED",
    "WITHDRAW": "WITHDRAWN",
}
APPROVAL_AFTER = {"APPROVE": "APPROVED", "REJECT": "REJECTED", "REQUEST_CHANGES": "CHANGES_REQUESTED"}
CLOSE_OUTCOMES = (("CLOSED_WON", 66), ("CLOSED_LOST", 20), ("WITHDRAWN", 5), (None, 9))
CLOSE_REASONS = {
    "CLOSED_WON": "Signed IO received.",
    "CLOSED_LOST": "Client chose another vendor.",
    "WITHDRAWN": "Campaign cancelled by the client.",
}
INCENTIVE_UNITS = {
    "AGENCY_REBATE": (("PERCENT", 1),),
    "VOLUME_BONUS": (("PERCENT", 7), ("AMOUNT", 3)),
    "ADDED_VALUE": (("IMPRESSIONS", 6), ("AMOUNT", 4)),
    "MAKEGOOD": (("IMPRESSIONS", 1),),
    "OTHER": (("AMOUNT", 1), ("PERCENT", 1)),
}
INCENTIVE_WEIGHTS = (
    ("AGENCY_REBATE", 35), ("VOLUME_BONUS", 25), ("ADDED_VALUE", 20), ("MAKEGOOD", 10), ("OTHER", 10),
)


def decision_weights(round_number: int) -> tuple[tuple[str, float], ...]:
    """First submissions bounce more often than resubmissions."""
    changes = 20.0 if round_number == 1 else 7.0
    return (("WITHDRAW", 0.6), ("REJECT", 2.0), ("REQUEST_CHANGES", changes),
            ("APPROVE", 97.4 - changes))


def decision_comment(rng: random.Random, action: str) -> str | None:
    """Why a stage was rejected or sent back; approvals mostly go without a word."""
    if action == "REJECT":
        return str(rng.choice(REJECT_REASONS))
    if action == "REQUEST_CHANGES":
        return str(rng.choice(CHANGE_REASONS))
    return "Approved." if rng.random() < 0.3 else None


# ---------------------------------------------------------------- scoping requests


def scoping_row(ctx: Seeding, requester: DemoUser, created: dt.datetime, status: str,
                updated: dt.datetime, advertiser_of_deal: Party | None = None) -> Row:
    """A scoping request; the caller fills advertiser, agency and conversion for converted ones."""
    rng = ctx.rng
    drawn = ctx.cast.advertiser(requester.region, rng)  # drawn even when given: the same seed, the same data
    advertiser = advertiser_of_deal or drawn
    agency = ctx.cast.agency(requester.region, rng)
    desired = created.date() + dt.timedelta(days=rng.randint(14, 90))
    budget = None if rng.random() < 0.2 else money(rng.lognormvariate(math.log(250_000), 1.0), 1000)
    return {
        "id": ctx.uid(created), "title": f"{advertiser.name}: {rng.choice(CAMPAIGNS)}",
        "objective": rng.choice(OBJECTIVES), "status": status, "estimated_budget": budget,
        "currency": weighted(rng, CURRENCIES[requester.region]), "desired_start": desired,
        "desired_end": desired + dt.timedelta(days=rng.randint(14, 180)),
        "requested_by": requester.id, "region": requester.region,
        "advertiser_id": advertiser.id, "agency_id": agency and agency.id,
        "converted_deal_id": None, "created_at": created, "updated_at": updated,
    }


def converted_scoping_row(ctx: Seeding, deal: Row, owner: DemoUser, advertiser: Party) -> Row:
    """The CONVERTED request a deal came from: same requester, advertiser (in its title too) and agency."""
    created = deal["created_at"] - dt.timedelta(seconds=ctx.rng.randint(86_400, 21 * 86_400))
    row = scoping_row(ctx, owner, created, "CONVERTED", deal["created_at"], advertiser)
    row.update(advertiser_id=deal["advertiser_id"], agency_id=deal["agency_id"],
               currency=deal["currency"], converted_deal_id=deal["id"])
    return row


def open_scoping_row(ctx: Seeding, created: dt.datetime) -> Row:
    """A request not converted: fresh ones open or in review, older ones mostly settled."""
    rng = ctx.rng
    recent = ANCHOR - created < dt.timedelta(days=14)
    status = weighted(rng, RECENT_SCOPING if recent else SETTLED_SCOPING)
    requester = ctx.cast.owners.pick(rng) if rng.random() < 0.9 else rng.choice(
        ctx.cast.holders["DEAL_DESK"])
    end = min(created + dt.timedelta(days=10), ANCHOR)
    return scoping_row(ctx, requester, created, status,
                       created if status == "OPEN" else between(rng, created, end))


OBJECTIVES = (
    "Reach new audiences on premium CTV ahead of the season.",
    "Drive store visits in the launch markets.",
    "Consolidate programmatic spend with one partner.",
    "Test audio and DOOH alongside the video plan.",
    None,
)
RECENT_SCOPING = (("OPEN", 50), ("IN_REVIEW", 30), ("QUALIFIED", 12), ("DECLINED", 8))
SETTLED_SCOPING = (("OPEN", 3), ("IN_REVIEW", 5), ("QUALIFIED", 25), ("DECLINED", 67))


# ---------------------------------------------------------------- months


def moments(rng: random.Random, start: dt.datetime, end: dt.datetime, count: int) -> list[dt.datetime]:
    """`count` sorted whole-second instants in [start, end)."""
    span = int((end - start).total_seconds())
    return sorted(start + dt.timedelta(seconds=rng.randrange(span)) for _ in range(count))


def deals_in_month(rng: random.Random, start: dt.datetime) -> int:
    """About DEALS_PER_MONTH, busier towards Q4."""
    season = 1 + 0.12 * math.sin(2 * math.pi * (start.month - 7) / 12)
    return round(DEALS_PER_MONTH * season * rng.uniform(0.93, 1.07))


def add_deal(ctx: Seeding, batch: Batch, created: dt.datetime) -> None:
    """One deal with its tiers, incentives and lifecycle; sometimes from a scoping request."""
    rng = ctx.rng
    owner: DemoUser = ctx.cast.owners.pick(rng)
    advertiser = ctx.cast.advertiser(owner.region, rng)
    deal = deal_row(ctx, owner, advertiser, created)
    tiers = tier_rows(ctx, deal, deal["channels"].split(","))
    incentives = incentive_rows(ctx, deal)
    converted = rng.random() < 0.08
    life = Lifecycle(ctx, deal, owner, stages_for(deal, tiers, incentives), created)
    life.run("Converted from a scoping request." if converted else "Created.")
    for name, rows in (("deals", [deal]), ("deal_tiers", tiers), ("incentive_values", incentives),
                       ("deal_approvals", life.approvals), ("approval_actions", life.actions),
                       ("deal_status_history", life.history)):
        batch[name].extend(rows)
    if converted:
        batch["deal_scoping_requests"].append(converted_scoping_row(ctx, deal, owner, advertiser))


def month_batch(ctx: Seeding, start: dt.datetime, end: dt.datetime) -> Batch:
    """Every deal created in [start, end), and the scoping requests opened then."""
    batch = Batch()
    count = deals_in_month(ctx.rng, start)
    for created in moments(ctx.rng, start, end, count):
        add_deal(ctx, batch, created)
    for created in moments(ctx.rng, start, end, round(count * 0.12)):
        batch["deal_scoping_requests"].append(open_scoping_row(ctx, created))
    return batch


# ---------------------------------------------------------------- entry point


def has_deals(engine: Engine) -> bool:
    """True when the store already holds deals."""
    with engine.connect() as connection:
        return connection.execute(select(t.deals.c.id).limit(1)).first() is not None


def existing_users(connection: Connection) -> dict[str, str]:
    """Refuse a store that has deals; return the subs of users already there (dev sign-ins)."""
    deals = connection.execute(select(func.count()).select_from(t.deals)).scalar_one()
    if deals:
        raise ValueError(
            f"the store already holds {deals} deals; seed only into an empty store "
            "(point DEAL_DESK_DATABASE_URL at a new database, then run migrate and seed)"
        )
    return {sub: id_ for sub, id_ in connection.execute(select(t.users.c.sub, t.users.c.id))}


def progress_bar(visible: bool) -> Progress:
    """A rich progress bar over months, silent when not `visible`."""
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), disable=not visible)


def seed(engine: Engine, *, scale: int, seed: int = 7, progress: bool = True) -> dict[str, int]:
    """Write `scale` months of deterministic demo data ending at ANCHOR; return rows per table."""
    if scale < 1:
        raise ValueError("scale must be at least 1 (months of history)")
    rng, start = random.Random(seed), add_months(ANCHOR, -scale)
    trail = Trail(random.Random(f"audit:{seed}"))
    with engine.begin() as connection:
        batch, cast = reference_batch(rng, scale, start, existing_users(connection))
        batch.write(connection)
        trail.write(connection, batch, start)
    counts = batch.counts()
    ctx = Seeding(rng, cast)
    with progress_bar(progress) as bar:
        task = bar.add_task("Seeding months", total=scale)
        for month in range(scale):
            end = add_months(start, month + 1)
            batch = month_batch(ctx, add_months(start, month), end)
            with engine.begin() as connection:
                batch.write(connection)
                trail.write(connection, batch, end)
            counts = {name: counts[name] + n for name, n in batch.counts().items()}
            bar.advance(task)
    analyze(engine)
    with engine.begin() as connection:  # Databricks: the governed views' user_access, from the seeded users
        governance.sync_user_access(connection)
    return counts


def analyze(engine: Engine) -> None:
    """Refresh PostgreSQL's planner statistics after a bulk load."""
    # Autovacuum analyzes a table only a while after it fills: until then the planner takes the freshly seeded
    # tables for empty and picks plans that cost a second where a millisecond would do.
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("ANALYZE")
