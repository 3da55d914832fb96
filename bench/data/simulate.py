"""Simulated loyalty members whose rows obey the ledger rules of the contract.

`Simulator.chunk(start, count)` simulates `count` members together (transfers pair members of
one chunk), applying their events in time order exactly as the importer would: before any event
of a member its due lots expire (one EXPIRY activity per expiry instant), credits create lots,
debits consume lots earliest expiry first and record lot consumptions, returns restore redeemed
points onto the lots they came from and reverse the points earned on the order. It returns the
rows of every table in schema column order, ready for COPY or executemany, and, on request, the
contract events (camelCase objects) that produce the same history through the importer.

Invariants (checked by `bench.data.generate --check`): each member's points_balance equals the sum
of their activities' points and the sum of their lots' remaining, and is >= 0; each credit of kind
EARN or TRANSFER_IN has a lot; each debit has lot consumptions summing to its points.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
import random
import string
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from member360.db import table
from member360.models import import_flush_order

# Tables the simulator fills, in foreign-key order: what an import writes, less its own record
# of applied events (the simulator writes rows, not events).
TABLES = tuple(name for name in import_flush_order() if name != "ingested_events")
COLUMNS: dict[str, tuple[str, ...]] = {
    name: tuple(c.name for c in table(name).columns) for name in TABLES
}

FIRST_NAMES = (
    "Aarav Vivaan Aditya Vihaan Arjun Sai Reyansh Ayaan Krishna Ishaan Rohan Kabir Rahul Amit "
    "Priya Ananya Diya Aadhya Saanvi Isha Kavya Meera Neha Pooja Riya Sneha Tanvi Anjali Divya "
    "Lakshmi Deepak Sanjay Vikram Suresh Ramesh Ganesh Nikhil Manish Arun Karthik Farhan Imran "
    "Zoya Sara Fatima Ayesha Maria John David Daniel Emma Olivia Sophia Liam Noah Mei Wei Ken "
    "Yuki Hana Omar Layla"
).split()
LAST_NAMES = (
    "Sharma Verma Gupta Singh Kumar Patel Shah Mehta Iyer Iyengar Rao Reddy Naidu Nair Menon "
    "Pillai Das Bose Banerjee Chatterjee Mukherjee Ghosh Sen Joshi Kulkarni Deshpande Patil "
    "Jadhav Pawar Chauhan Yadav Mishra Pandey Tiwari Dubey Saxena Agarwal Jain Malhotra Kapoor "
    "Khanna Chopra Bhatia Sethi Arora Gill Sandhu Grewal Khan Ahmed Sheikh Qureshi Fernandes "
    "Dsouza Pereira Thomas George Mathew Varghese Wong Tan Lee Smith"
).split()
# Search terms for the member list benchmark: each matches hundreds to thousands of members.
SEARCH_TERMS = tuple(n.lower() for n in LAST_NAMES[:40]) + tuple(
    n.lower() for n in FIRST_NAMES[:20]
)

CAMPAIGNS = (
    ("CMP-DIWALI", "Diwali Bonanza"),
    ("CMP-SUMMER", "Summer Splash"),
    ("CMP-MONSOON", "Monsoon Magic"),
    ("CMP-NEWYEAR", "New Year Double Points"),
    ("CMP-WEEKEND", "Weekend Bonus"),
    ("CMP-APP", "App Launch Offer"),
    ("CMP-BDAY", "Birthday Month"),
    ("CMP-REFER", "Refer a Friend"),
)
# Actions besides the built-in catalog (contract: every org starts with 100..1008).
CUSTOM_ACTIONS = ((201, "Birthday Bonus"), (202, "Referral Bonus"), (203, "Visit Tracker"))
REGIONS = ("North", "South", "East", "West", "Central")
STORE_TYPES = ("Flagship", "Mall", "High Street", "Outlet", "Kiosk")
STORES = tuple(
    (f"S{n:04d}", f"Store {n:04d}", REGIONS[n % len(REGIONS)], STORE_TYPES[n % len(STORE_TYPES)])
    for n in range(1, 201)
)
TIERS = (("Base", 0), ("Silver", 3000), ("Gold", 10000), ("Platinum", 25000))
COUPON_SERIES = ("Welcome", "Birthday", "Festive", "Win-back", "Anniversary")
CHANNELS = (("SMS", 35), ("EMAIL", 40), ("WEBENGAGE", 15), ("WECHAT", 5), ("SURVEY", 5))
SUBJECTS = (
    "Your points statement",
    "Double points this weekend",
    "A coupon for you",
    "Your tier is about to change",
    "Points expiring soon",
    "Thanks for shopping with us",
    "Tell us how we did",
)
STATUSES = ("SENT", "DELIVERED", "OPENED", "CLICKED", "FAILED", "BOUNCED")
BEHAVIOR = ("app_open", "product_view", "add_to_cart", "wishlist_add", "store_checkin", "search")
SEGMENTS = (
    ("RFM", ("Champions", "Loyal", "Potential", "At Risk", "Hibernating")),
    ("Value Band", ("High", "Medium", "Low")),
    ("Churn Risk", ("Low", "Medium", "High")),
)
LEAD_TYPES = ("Service", "Upsell", "Complaint", "Enquiry")
LEAD_FOR = ("Credit Card", "Home Delivery", "Gift Cards", "Store Event", "Membership")
LEAD_STATUS = (("OPEN", "New"), ("IN_PROGRESS", "Contacted"), ("CLOSED", "Converted"))
REDEEM_SIZES = (100, 150, 200, 250, 300, 400, 500, 750, 1000, 1500, 2000)
TRANSFER_SIZES = (50, 100, 150, 200, 300, 500)
SIGMA = 1.0  # log-normal spread of activities per member: some members have hundreds

ACTION_PURCHASE, ACTION_RETURN, ACTION_REDEMPTION, ACTION_EXPIRED = 100, 101, 102, 103
ACTION_TRANSFER, ACTION_CAMPAIGN = 176, 1008
CAMPAIGN_NAMES = dict(CAMPAIGNS)


INDEX: dict[str, dict[str, int]] = {
    name: {c: i for i, c in enumerate(cols)} for name, cols in COLUMNS.items()
}
ACT = INDEX["points_activities"]
LOT = INDEX["lots"]
LC = INDEX["lot_consumptions"]
A_ID, A_POINTS, A_REVERSED = ACT["id"], ACT["points"], ACT["points_reversed"]
L_ID, L_EXPIRES, L_EARNED = LOT["id"], LOT["expires_at"], LOT["earned_at"]
L_REMAINING = LOT["remaining"]
C_POINTS, C_RESTORED, C_LOT = LC["points"], LC["restored"], LC["lot_id"]


def _lot_key(lot: list[Any]) -> tuple[dt.datetime, dt.datetime, int]:
    # Earliest expiry first; ties go to the earliest earned, then the oldest row (the engine's).
    return (lot[L_EXPIRES], lot[L_EARNED], lot[L_ID])


def poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


@dataclass
class Ids:
    """Next id per table within one chunk."""

    next: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TABLES, 1))

    def take(self, name: str) -> int:
        value = self.next[name]
        self.next[name] = value + 1
        return value


class Member:
    __slots__ = (
        "active_until",
        "acts",
        "balance",
        "cid",
        "credited",
        "email",
        "enrolled_at",
        "external_id",
        "index",
        "lifetime",
        "lots",
        "mobile",
        "name",
        "opted_in",
        "orders",
        "pk",
        "planned",
        "tier",
        "updated_at",
    )

    def __init__(self) -> None:
        self.balance = 0
        self.credited = 0  # every positive activity (customers.points_credited)
        self.lifetime = 0
        self.lots: list[list[Any]] = []  # open lots, sorted by _lot_key
        self.orders: list[Order] = []
        self.acts = 0
        self.external_id: str | None = None


class Order:
    __slots__ = ("amount", "at", "campaign_id", "credits", "order_id", "redemptions", "source")
    __slots__ += ("returned", "store_id")

    def __init__(self, order_id: str, at: dt.datetime, amount: float) -> None:
        self.order_id = order_id
        self.at = at
        self.amount = amount
        self.credits: list[list[Any]] = []
        self.redemptions: list[list[Any]] = []
        self.returned = False
        self.store_id: str | None = None
        self.source: str | None = None
        self.campaign_id: str | None = None


@dataclass
class Chunk:
    rows: dict[str, list[list[Any]]]
    # (sort key, event) pairs in the order the importer must apply them; only with events=True.
    events: list[tuple[tuple[dt.datetime, int], dict[str, Any]]]


class Simulator:
    """Members CUST-0000001 … with `mean_activities` points activities each on average."""

    def __init__(
        self,
        *,
        org_id: int,
        tz: ZoneInfo,
        now: dt.datetime,
        days: int = 730,
        mean_activities: float = 50.0,
        validity_days: int = 365,
        seed: int = 42,
        first_pk: int = 1,
        events: bool = False,
        scale: float = 0.921,
    ) -> None:
        self.org_id = org_id
        self.tz = tz
        self.now = now.replace(microsecond=0)
        self.start = self.now - dt.timedelta(days=days)
        self.mean = mean_activities
        self.validity = dt.timedelta(days=validity_days)
        self.seed = seed
        self.first_pk = first_pk
        self.with_events = events
        # Planned events per member are scaled so activities land on the requested mean
        # (expiries, restores and transfers-in come on top of the planned events; 0.921 is
        # measured for the default mix).
        self.scale = scale
        self._act_template = self._template("points_activities")

    # ------------------------------------------------------------------ helpers

    def _template(self, name: str) -> list[Any]:
        row: list[Any] = [None] * len(COLUMNS[name])
        row[COLUMNS[name].index("org_id")] = self.org_id
        return row

    def _row(self, name: str, **values: Any) -> list[Any]:
        index = INDEX[name]
        row = self._template(name)
        row[0] = self.ids.take(name)
        for key, value in values.items():
            row[index[key]] = value
        self.rows[name].append(row)
        return row

    def _next(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def _iso(self, at: dt.datetime) -> str:
        return at.astimezone(self.tz).isoformat()

    def _event(self, at: dt.datetime, type_: str, **fields: Any) -> str:
        """Records the contract event (events mode) and returns its id either way."""
        event_id = self._next("E")
        if not self.with_events:
            return event_id
        self.seq += 1
        body = {"type": type_, "id": event_id, "occurredAt": self._iso(at)}
        for key, value in fields.items():
            if value is not None:
                body[key] = self._iso(value) if isinstance(value, dt.datetime) else value
        self.events.append(((at, self.seq), body))
        return event_id

    def _between(self, rng: random.Random, lo: dt.datetime, hi: dt.datetime) -> dt.datetime:
        span = int((hi - lo).total_seconds())
        return lo + dt.timedelta(seconds=rng.randrange(1, max(2, span)))

    # ------------------------------------------------------------------ a chunk

    def chunk(self, start: int, count: int) -> Chunk:
        """Members start … start+count-1 (0-based), simulated together.

        Row ids are local to the chunk (from 1 in each table, references included); the writer
        shifts them past the ids already written (`shift_ids`). Customer ids are final.
        """
        rng = random.Random(self.seed * 1_000_003 + start)
        self.ids = Ids()
        # Order, transfer, coupon, message, lead and event ids: unique across chunks.
        self.counter = start * 1000
        self.rows: dict[str, list[list[Any]]] = {name: [] for name in TABLES}
        self.events: list[tuple[tuple[dt.datetime, int], dict[str, Any]]] = []
        self.seq = start * 10_000
        self.lots_by_id: dict[int, list[Any]] = {}
        self.consumptions: dict[int, list[list[Any]]] = {}
        members = [self._enroll(rng, start + j) for j in range(count)]
        opted = [m for m in members if m.opted_in]
        plan: list[tuple[dt.datetime, int]] = []
        for j, m in enumerate(members):
            for _ in range(m.planned):
                plan.append((self._between(rng, m.enrolled_at, m.active_until), j))
        plan.sort(key=lambda p: p[0])
        for at, j in plan:
            self._apply(rng, members[j], at, opted)
        for m in members:
            self._expire(m, self.now)
            self._other_history(rng, m)
            self._customer_row(m)
        return Chunk(self.rows, self.events)

    def _enroll(self, rng: random.Random, index: int) -> Member:
        m = Member()
        m.index = index
        m.pk = self.first_pk + index
        m.cid = f"CUST-{index + 1:07d}"
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        m.name = f"{first} {last}"
        m.email = f"{first}.{last}{index + 1}@example.com".lower()
        m.mobile = f"+91{9_000_000_000 + index + 1}"
        m.opted_in = rng.random() < 0.7
        # Enrolment spread over the two years, a little heavier early (the program's launch).
        span = (self.now - self.start).total_seconds() - 30 * 86400
        m.enrolled_at = self.start + dt.timedelta(seconds=int(span * rng.random() ** 1.3))
        m.updated_at = m.enrolled_at
        m.tier = "Base"
        # A third of the members go dormant at some point: their points then lapse.
        m.active_until = self.now
        if rng.random() < 0.33:
            m.active_until = self._between(rng, m.enrolled_at, self.now)
        wanted = self.mean * math.exp(rng.gauss(0, SIGMA) - SIGMA * SIGMA / 2)
        m.planned = max(1, min(3000, round(wanted * self.scale)))
        self._event(
            m.enrolled_at,
            "customer.enrolled",
            customerId=m.cid,
            name=m.name,
            email=m.email,
            mobile=m.mobile,
            optedIn=m.opted_in,
            tier="Base",
        )
        for kind, value in (("EMAIL", m.email), ("MOBILE", m.mobile)):
            self._row(
                "identifier_changes",
                customer_id=m.pk,
                changed_at=m.enrolled_at,
                identifier_type=kind,
                value=value,
                action_type="ADD",
                source="ENROLLMENT",
            )
        self._row(
            "tier_changes",
            customer_id=m.pk,
            changed_at=m.enrolled_at,
            from_tier=None,
            to_tier="Base",
            reason="Enrollment",
        )
        return m

    # ------------------------------------------------------------------ the ledger

    def _activity(
        self, m: Member, kind: str, at: dt.datetime, action_id: int, points: int, **values: Any
    ) -> list[Any]:
        assert points != 0
        row = self._act_template[:]
        row[A_ID] = self.ids.take("points_activities")
        row[ACT["customer_id"]] = m.pk
        row[ACT["kind"]] = kind
        row[ACT["category"]] = values.pop("category", "REGULAR")
        row[ACT["occurred_at"]] = at
        row[ACT["local_date"]] = at.astimezone(self.tz).date()
        row[ACT["action_id"]] = action_id
        row[A_POINTS] = points
        row[A_REVERSED] = 0
        row[ACT["points_unrecovered"]] = values.pop("points_unrecovered", 0)
        for key, value in values.items():
            row[ACT[key]] = value
        self.rows["points_activities"].append(row)
        m.acts += 1
        m.balance += points
        if points > 0:
            m.credited += points
        return row

    def _credit(
        self,
        m: Member,
        kind: str,
        at: dt.datetime,
        action_id: int,
        points: int,
        expires_at: dt.datetime | None = None,
        **values: Any,
    ) -> list[Any]:
        expires_at = expires_at or at + self.validity
        row = self._activity(m, kind, at, action_id, points, expires_at=expires_at, **values)
        lot = self._row(
            "lots",
            customer_id=m.pk,
            activity_id=row[A_ID],
            earned_at=at,
            expires_at=expires_at,
            points=points,
            remaining=points,
        )
        self.lots_by_id[lot[L_ID]] = lot
        bisect.insort(m.lots, lot, key=_lot_key)
        m.lifetime += points
        self._tier_check(m, at)
        return row

    def _consume(self, m: Member, activity: list[Any], points: int) -> None:
        left = points
        parts: list[list[Any]] = []
        keep: list[list[Any]] = []
        for lot in m.lots:
            if left:
                take = min(lot[L_REMAINING], left)
                lot[L_REMAINING] -= take
                left -= take
                parts.append(
                    self._row(
                        "lot_consumptions",
                        activity_id=activity[A_ID],
                        lot_id=lot[L_ID],
                        points=take,
                        restored=0,
                    )
                )
            if lot[L_REMAINING] > 0:
                keep.append(lot)
        assert left == 0, f"lots of member {m.pk} short by {left}"
        m.lots = keep
        self.consumptions[activity[A_ID]] = parts

    def _debit(
        self, m: Member, kind: str, at: dt.datetime, action_id: int, points: int, **values: Any
    ) -> list[Any]:
        row = self._activity(m, kind, at, action_id, -points, **values)
        self._consume(m, row, points)
        return row

    def _expire(self, m: Member, at: dt.datetime) -> None:
        """Due lots expire before any event of their member: one activity per instant."""
        while m.lots and m.lots[0][L_EXPIRES] <= at:
            instant = m.lots[0][L_EXPIRES]
            due = []
            while m.lots and m.lots[0][L_EXPIRES] == instant:
                due.append(m.lots.pop(0))
            self._expire_lots(m, due, instant)

    def _expire_lots(self, m: Member, lots: list[list[Any]], instant: dt.datetime) -> None:
        amount = sum(lot[L_REMAINING] for lot in lots)
        if amount == 0:
            return
        row = self._activity(m, "EXPIRY", instant, ACTION_EXPIRED, -amount)
        for lot in lots:
            self._row(
                "lot_consumptions",
                activity_id=row[A_ID],
                lot_id=lot[L_ID],
                points=lot[L_REMAINING],
                restored=0,
            )
            lot[L_REMAINING] = 0
        m.lots = [lot for lot in m.lots if lot[L_REMAINING] > 0]

    def _tier_check(self, m: Member, at: dt.datetime) -> None:
        if m.lifetime < TIERS[1][1] or m.tier == TIERS[-1][0]:
            return
        current = next(i for i, (name, _) in enumerate(TIERS) if name == m.tier)
        reached = max(i for i, (_, floor) in enumerate(TIERS) if m.lifetime >= floor)
        if reached > current:
            self._tier(m, at, TIERS[reached][0], "Points threshold")

    def _tier(self, m: Member, at: dt.datetime, to_tier: str, reason: str) -> None:
        self._row(
            "tier_changes",
            customer_id=m.pk,
            changed_at=at,
            from_tier=m.tier,
            to_tier=to_tier,
            reason=reason,
        )
        self._event(
            at, "tier.changed", customerId=m.cid, fromTier=m.tier, toTier=to_tier, reason=reason
        )
        m.tier = to_tier
        m.updated_at = max(m.updated_at, at)

    # ------------------------------------------------------------------ events

    def _apply(self, rng: random.Random, m: Member, at: dt.datetime, opted: list[Member]) -> None:
        self._expire(m, at)
        r = rng.random()
        if r < 0.16:
            if m.balance >= REDEEM_SIZES[0]:
                self._redeem(rng, m, at, None)
                return
        elif r < 0.21:
            order = self._returnable(rng, m, at)
            if order is not None:
                self._return(m, at, order)
                return
        elif r < 0.24:
            if m.opted_in and m.balance >= TRANSFER_SIZES[0] and len(opted) > 1:
                receiver = rng.choice(opted)
                if receiver is not m:
                    self._transfer(rng, m, receiver, at)
                    return
        elif r < 0.38:
            self._bonus(rng, m, at)
            return
        self._purchase(rng, m, at)

    def _purchase(self, rng: random.Random, m: Member, at: dt.datetime) -> None:
        order = Order(self._next("ORD-"), at, round(rng.lognormvariate(7.0, 0.8), 2))
        order.store_id = rng.choice(STORES)[0]
        order.source = "POS" if rng.random() < 0.8 else "ECOM"
        campaign = rng.choice(CAMPAIGNS) if rng.random() < 0.08 else None
        action_id = ACTION_CAMPAIGN if campaign else ACTION_PURCHASE
        order.campaign_id = campaign[0] if campaign else None
        # A few purchases earn nothing (excluded items): the transaction only.
        points = int(order.amount // 10) if rng.random() > 0.03 else 0
        self._row(
            "transactions",
            customer_id=m.pk,
            type="PURCHASE",
            occurred_at=at,
            order_id=order.order_id,
            amount=order.amount,
            store_id=order.store_id,
            source=order.source,
            action_id=action_id,
            campaign_id=order.campaign_id,
            points_earned=points,
            points_unrecovered=0,
        )
        event_id = self._event(
            at,
            "transaction.purchased",
            customerId=m.cid,
            orderId=order.order_id,
            amount=order.amount,
            storeId=order.store_id,
            source=order.source,
            pointsEarned=points,
            actionId=action_id if campaign else None,
            campaignId=order.campaign_id,
        )
        m.orders.append(order)
        if points > 0:
            order.credits.append(
                self._credit(
                    m,
                    "EARN",
                    at,
                    action_id,
                    points,
                    category="PROMOTION" if campaign else "REGULAR",
                    order_id=order.order_id,
                    store_id=order.store_id,
                    source=order.source,
                    reason=campaign[1] if campaign else None,
                    campaign_id=order.campaign_id,
                    event_id=event_id,
                )
            )
        # Some members pay part of the bill with points, at the till, against the same order.
        if m.balance >= 300 and rng.random() < 0.12:
            order.redemptions.append(self._redeem(rng, m, at, order))

    def _redeem(
        self, rng: random.Random, m: Member, at: dt.datetime, order: Order | None
    ) -> list[Any]:
        points = min(m.balance, rng.choice(REDEEM_SIZES))
        values = {
            "order_id": order.order_id if order else None,
            "store_id": order.store_id if order else rng.choice(STORES)[0],
            "source": order.source if order else rng.choice(("POS", "APP", "ECOM")),
        }
        event_id = self._event(
            at,
            "points.redeemed",
            customerId=m.cid,
            points=points,
            actionId=ACTION_REDEMPTION,
            orderId=values["order_id"],
            storeId=values["store_id"],
            source=values["source"],
        )
        return self._debit(m, "REDEEM", at, ACTION_REDEMPTION, points, event_id=event_id, **values)

    def _bonus(self, rng: random.Random, m: Member, at: dt.datetime) -> None:
        r = rng.random()
        fields: dict[str, Any] = {}
        expires_at = None
        if r < 0.5:
            campaign_id, name = rng.choice(CAMPAIGNS)
            action_id, category, points = ACTION_CAMPAIGN, "PROMOTION", rng.randrange(50, 501, 10)
            fields = {"campaign_id": campaign_id, "reason": name}
            if rng.random() < 0.3:  # promotional points that lapse sooner
                expires_at = at + dt.timedelta(days=90)
        elif r < 0.75:
            action_id, name = rng.choice(CUSTOM_ACTIONS[:2])
            category, points = "REGULAR", rng.choice((100, 200, 250, 500))
            fields = {"reason": name}
        else:
            action_id, category, points = 203, "TRACKER", rng.randrange(5, 60)
            fields = {
                "custom_id": self._next("TRK-"),
                "tracker_value": round(rng.uniform(1, 20), 1),
                "store_id": rng.choice(STORES)[0],
            }
        event_id = self._event(
            at,
            "points.earned",
            customerId=m.cid,
            points=points,
            actionId=action_id,
            category=category,
            campaignId=fields.get("campaign_id"),
            reason=fields.get("reason") if action_id != ACTION_CAMPAIGN else None,
            customId=fields.get("custom_id"),
            trackerValue=fields.get("tracker_value"),
            storeId=fields.get("store_id"),
            source="LOYALTY",
            expiresAt=expires_at,
        )
        self._credit(
            m,
            "EARN",
            at,
            action_id,
            points,
            expires_at=expires_at,
            category=category,
            source="LOYALTY",
            event_id=event_id,
            **fields,
        )

    def _transfer(
        self, rng: random.Random, sender: Member, receiver: Member, at: dt.datetime
    ) -> None:
        self._expire(receiver, at)
        points = min(sender.balance, rng.choice(TRANSFER_SIZES))
        transfer_id = self._next("TR-")
        event_id = self._event(
            at,
            "points.transferred",
            transferId=transfer_id,
            senderId=sender.cid,
            receiverId=receiver.cid,
            points=points,
            program="Family Pooling",
        )
        common = {"transfer_id": transfer_id, "program": "Family Pooling"}
        self._debit(
            sender,
            "TRANSFER_OUT",
            at,
            ACTION_TRANSFER,
            points,
            counterparty_id=receiver.pk,
            event_id=event_id,
            **common,
        )
        self._credit(
            receiver,
            "TRANSFER_IN",
            at,
            ACTION_TRANSFER,
            points,
            counterparty_id=sender.pk,
            event_id=event_id,
            **common,
        )

    def _returnable(self, rng: random.Random, m: Member, at: dt.datetime) -> Order | None:
        recent = [
            o
            for o in m.orders[-6:]
            if not o.returned and at - o.at <= dt.timedelta(days=30) and at > o.at
        ]
        return rng.choice(recent) if recent else None

    def _return(self, m: Member, at: dt.datetime, order: Order) -> None:
        """A whole-order return, as the importer applies `transaction.returned`."""
        order.returned = True
        event_id = self._event(
            at,
            "transaction.returned",
            customerId=m.cid,
            orderId=order.order_id,
            amount=order.amount,
            storeId=order.store_id,
            source=order.source,
        )
        common = {"order_id": order.order_id, "store_id": order.store_id, "source": order.source}
        for redemption in order.redemptions:
            self._restore(m, redemption, -redemption[A_POINTS], at, event_id, common)
        groups: dict[tuple[int, str | None], int] = {}
        for credit in order.credits:
            if credit[ACT["action_id"]] == ACTION_CAMPAIGN:
                key = (ACTION_CAMPAIGN, credit[ACT["campaign_id"]])
            else:
                key = (ACTION_RETURN, None)
            groups[key] = groups.get(key, 0) + credit[A_POINTS]
        taken_back = unrecovered = 0
        for (action_id, campaign_id), due in groups.items():
            debit = min(due, m.balance)
            short = due - debit
            unrecovered += short
            if debit == 0:
                continue
            values: dict[str, Any] = {"reason": None}
            if action_id == ACTION_CAMPAIGN:
                name = CAMPAIGN_NAMES.get(campaign_id or "", campaign_id or "")
                values = {"campaign_id": campaign_id, "reason": f"{name} - Returned"}
            self._debit(
                m,
                "REVERSAL",
                at,
                action_id,
                debit,
                points_unrecovered=short,
                event_id=event_id,
                **common,
                **values,
            )
            taken_back += debit
        self._row(
            "transactions",
            customer_id=m.pk,
            type="RETURN",
            occurred_at=at,
            order_id=order.order_id,
            amount=order.amount,
            store_id=order.store_id,
            source=order.source,
            action_id=ACTION_RETURN,
            points_earned=-taken_back,
            points_unrecovered=unrecovered,
        )

    def _restore(
        self,
        m: Member,
        redemption: list[Any],
        amount: int,
        at: dt.datetime,
        event_id: str,
        common: dict[str, Any],
    ) -> None:
        self._activity(
            m,
            "RESTORE",
            at,
            ACTION_RETURN,
            amount,
            redemption_id=redemption[A_ID],
            event_id=event_id,
            **common,
        )
        redemption[A_REVERSED] += amount
        left = amount
        lapsed: list[list[Any]] = []
        for part in self.consumptions[redemption[A_ID]]:
            if left == 0:
                break
            give = min(part[C_POINTS] - part[C_RESTORED], left)
            if give <= 0:
                continue
            left -= give
            part[C_RESTORED] += give
            lot = self.lots_by_id[part[C_LOT]]
            was_open = lot[L_REMAINING] > 0
            lot[L_REMAINING] += give
            if not was_open:
                bisect.insort(m.lots, lot, key=_lot_key)
            if lot[L_EXPIRES] <= at and lot not in lapsed:
                lapsed.append(lot)
        assert left == 0
        if lapsed:
            # The part of a restored lot whose expiry has passed expires at once.
            self._expire_lots(m, lapsed, at)

    # ------------------------------------------------------------------ other tabs

    def _other_history(self, rng: random.Random, m: Member) -> None:
        """Coupons, messages, behavioural events, leads, segments, identifier changes."""
        weight = min(5.0, max(0.3, math.sqrt(max(m.acts, 1) / self.mean)))
        lo, hi = m.enrolled_at, self.now

        for _ in range(poisson(rng, 3 * weight)):
            issued = self._between(rng, lo, hi)
            expires = issued + dt.timedelta(days=rng.choice((30, 60, 90)))
            coupon_id = self._next("CP-")
            code = "".join(rng.choices(string.ascii_uppercase, k=4)) + f"-{rng.randrange(10**4)}"
            redeemed = order_id = store_id = None
            if rng.random() < 0.4 and issued < hi:
                redeemed = self._between(rng, issued, min(expires, hi))
                if redeemed >= expires:
                    redeemed = None
                else:
                    order_id, store_id = self._next("CORD-"), rng.choice(STORES)[0]
            self._row(
                "coupons",
                customer_id=m.pk,
                coupon_id=coupon_id,
                code=code,
                series=rng.choice(COUPON_SERIES),
                issued_at=issued,
                expires_at=expires,
                redeemed_at=redeemed,
                order_id=order_id,
                store_id=store_id,
                resend_count=1 if rng.random() < 0.05 else 0,
            )
            self._event(
                issued,
                "coupon.issued",
                couponId=coupon_id,
                code=code,
                customerId=m.cid,
                series=self.rows["coupons"][-1][COLUMNS["coupons"].index("series")],
                expiresAt=expires,
            )
            if redeemed is not None:
                self._event(
                    redeemed,
                    "coupon.redeemed",
                    couponId=coupon_id,
                    orderId=order_id,
                    storeId=store_id,
                )

        channels, weights = zip(*CHANNELS, strict=True)
        for _ in range(poisson(rng, 8 * weight)):
            sent = self._between(rng, lo, hi)
            channel = rng.choices(channels, weights)[0]
            status = rng.choices(STATUSES, (20, 40, 20, 10, 5, 5))[0]
            changed = sent + dt.timedelta(minutes=rng.randrange(1, 600))
            if status == "SENT" or changed >= hi:
                status, changed = "SENT", None
            message_id, subject = self._next("MSG-"), rng.choice(SUBJECTS)
            preview = f"{subject}: hello {m.name.split()[0]}, see what is new in your account."
            self._row(
                "communications",
                customer_id=m.pk,
                message_id=message_id,
                channel=channel,
                subject=subject,
                preview=preview,
                status=status,
                account="Acme Marketing",
                sent_at=sent,
                status_changed_at=changed,
            )
            self._event(
                sent,
                "communication.sent",
                messageId=message_id,
                customerId=m.cid,
                channel=channel,
                subject=subject,
                preview=preview,
                status="SENT",
                account="Acme Marketing",
            )
            if changed is not None:
                self._event(
                    changed, "communication.statusChanged", messageId=message_id, status=status
                )

        for _ in range(poisson(rng, 6 * weight)):
            at = self._between(rng, lo, hi)
            name = rng.choice(BEHAVIOR)
            attributes: dict[str, Any] = {
                "screen": name.split("_")[0],
                "sku": f"SKU{rng.randrange(10**5)}",
            }
            till = None
            if name == "store_checkin":
                till = f"T{rng.randrange(1, 40):02d}"
                if rng.random() < 0.3:
                    attributes["tillCode"] = f"T{rng.randrange(40, 80):02d}"
            tracking_id = self._next("TRK-")
            source = "APP" if rng.random() < 0.7 else "WEB"
            self._row(
                "behavioral_events",
                customer_id=m.pk,
                tracking_id=tracking_id,
                event=name,
                source=source,
                account_id="acme-app",
                till_code=till,
                attributes=orjson.dumps(attributes).decode(),
                occurred_at=at,
            )
            self._event(
                at,
                "event.tracked",
                customerId=m.cid,
                trackingId=tracking_id,
                event=name,
                source=source,
                accountId="acme-app",
                tillCode=till,
                attributes=attributes,
            )

        for _ in range(poisson(rng, 0.6 * weight)):
            created = self._between(rng, lo, hi)
            status, sub = rng.choice(LEAD_STATUS)
            updated = created if status == "OPEN" else self._between(rng, created, hi)
            lead_id = self._next("LEAD-")
            follow = created + dt.timedelta(days=rng.randrange(1, 15))
            values = {
                "lead_type": rng.choice(LEAD_TYPES),
                "lead_for": rng.choice(LEAD_FOR),
                "extended_fields": {"priority": rng.choice(("LOW", "MEDIUM", "HIGH"))},
            }
            self._row(
                "leads",
                customer_id=m.pk,
                lead_id=lead_id,
                lead_type=values["lead_type"],
                lead_for=values["lead_for"],
                status=status,
                sub_status=sub,
                created_at=created,
                updated_at=updated,
                last_follow_up_at=None if status == "OPEN" else updated,
                next_follow_up_at=follow if status != "CLOSED" else None,
                extended_fields=orjson.dumps(values["extended_fields"]).decode(),
            )
            self._event(
                created,
                "lead.created",
                leadId=lead_id,
                customerId=m.cid,
                leadType=values["lead_type"],
                leadFor=values["lead_for"],
                status="OPEN",
                subStatus="New",
                nextFollowUpAt=follow,
                extendedFields=values["extended_fields"],
            )
            if status != "OPEN":
                self._event(
                    updated,
                    "lead.updated",
                    leadId=lead_id,
                    customerId=m.cid,
                    status=status,
                    subStatus=sub,
                    lastFollowUpAt=updated,
                    nextFollowUpAt=follow if status != "CLOSED" else None,
                )

        partitions: dict[str, str | None] = {}
        for _ in range(poisson(rng, 2 * weight)):
            at = self._between(rng, lo, hi)
            segment, choices = rng.choice(SEGMENTS)
            before, after = partitions.get(segment), rng.choice(choices)
            partitions[segment] = after
            self._row(
                "segment_changes",
                customer_id=m.pk,
                changed_at=at,
                segment=segment,
                from_partition=before,
                to_partition=after,
            )
            self._event(
                at,
                "segment.changed",
                customerId=m.cid,
                segment=segment,
                fromPartition=before,
                toPartition=after,
            )

        for _ in range(poisson(rng, 0.4)):
            at = self._between(rng, lo, hi)
            r = rng.random()
            if r < 0.5:
                kind, value = "MOBILE", f"+91{8_000_000_000 + rng.randrange(10**9)}"
                m.mobile = value
            elif r < 0.7:
                kind, value = "EMAIL", f"{m.cid.lower()}.{rng.randrange(100)}@mail.example.com"
                m.email = value
            else:
                kind, value = "EXTERNAL_ID", f"EXT-{m.index + 1:07d}"
                m.external_id = value
            source = rng.choice(("CRM", "POS", "APP"))
            self._row(
                "identifier_changes",
                customer_id=m.pk,
                changed_at=at,
                identifier_type=kind,
                value=value,
                action_type="ADD",
                source=source,
                account="Acme Rewards",
            )
            self._event(
                at,
                "customer.identifierChanged",
                customerId=m.cid,
                identifierType=kind,
                value=value,
                source=source,
                account="Acme Rewards",
            )
            m.updated_at = max(m.updated_at, at)

    def _customer_row(self, m: Member) -> None:
        assert m.balance >= 0 and m.balance == sum(lot[L_REMAINING] for lot in m.lots)
        row = self._template("customers")
        values = {
            "id": m.pk,
            "customer_id": m.cid,
            "name": m.name,
            "email": m.email,
            "mobile": m.mobile,
            "external_id": m.external_id,
            "opted_in": m.opted_in,
            "tier": m.tier,
            "points_balance": m.balance,
            # The simulator records no group points.
            "points_credited": m.credited,
            "group_points_credited": 0,
            "enrolled_at": m.enrolled_at,
            "updated_at": m.updated_at,
        }
        for key, value in values.items():
            row[INDEX["customers"][key]] = value
        self.rows["customers"].append(row)


def catalog_rows(org_id: int) -> dict[str, list[tuple[Any, ...]]]:
    """Stores, campaigns and the custom actions (id is left to the database)."""
    return {
        "stores": [(org_id, *store) for store in STORES],
        "campaigns": [(org_id, cid, name) for cid, name in CAMPAIGNS],
        "actions": [(org_id, action_id, name) for action_id, name in CUSTOM_ACTIONS],
    }


CATALOG_COLUMNS = {
    "stores": ("org_id", "store_id", "name", "region", "store_type"),
    "campaigns": ("org_id", "campaign_id", "name"),
    "actions": ("org_id", "action_id", "name"),
}


def catalog_events(at: dt.datetime, tz: ZoneInfo) -> list[dict[str, Any]]:
    """The catalog as contract events (for the import file)."""
    iso = at.astimezone(tz).isoformat()
    out: list[dict[str, Any]] = []
    for store_id, name, region, store_type in STORES:
        out.append(
            {
                "type": "store.upserted",
                "id": f"cat-{store_id}",
                "occurredAt": iso,
                "storeId": store_id,
                "name": name,
                "region": region,
                "storeType": store_type,
            }
        )
    for campaign_id, name in CAMPAIGNS:
        out.append(
            {
                "type": "campaign.defined",
                "id": f"cat-{campaign_id}",
                "occurredAt": iso,
                "campaignId": campaign_id,
                "name": name,
            }
        )
    for action_id, name in CUSTOM_ACTIONS:
        out.append(
            {
                "type": "action.defined",
                "id": f"cat-A{action_id}",
                "occurredAt": iso,
                "actionId": action_id,
                "name": name,
            }
        )
    return out


# Columns holding a row id of another simulated table (customer ids are final already).
REFERENCES: dict[str, tuple[tuple[int, str], ...]] = {
    "points_activities": ((ACT["redemption_id"], "points_activities"),),
    "lots": ((LOT["activity_id"], "points_activities"),),
    "lot_consumptions": ((LC["activity_id"], "points_activities"), (LC["lot_id"], "lots")),
}


def shift_ids(rows: dict[str, list[list[Any]]], offsets: dict[str, int]) -> None:
    """Moves a chunk's local ids (and references to them) past `offsets` (ids written so far)."""
    for name, table_rows in rows.items():
        if name == "customers":
            continue
        own = offsets[name]
        refs = [(i, offsets[target]) for i, target in REFERENCES.get(name, ())]
        for row in table_rows:
            row[0] += own
            for i, off in refs:
                if row[i] is not None:
                    row[i] += off
