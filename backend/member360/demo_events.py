"""A deterministic, realistic year of a demo loyalty program, as import events.

`generate_demo_events` streams plain dicts in the import format (contract, "Event import"):
the catalog first (stores, extra actions, campaigns, action series, surveys), then members
enrolling over the period and living their loyalty lives: purchases and returns, campaign
benefits, promotions, trackers, surveys, redemptions, transfers, coupons, messages, app events,
leads, segments, profile and identifier changes, tier moves and a few account merges.

The generator is a small discrete-event simulation: a heap of per-member "next thing to do"
entries ordered by time, so events come out in non-decreasing `occurredAt` order while memory
stays at a little state per member. It tracks every member's points lots exactly as the ledger
rules do (credits make lots expiring 365 days later unless `expiresAt` is given, debits take the
earliest expiry first, due lots expire before the member's next event, returns reverse the
order's points in proportion, rounded down), so no redemption or transfer ever exceeds the
balance and every event of the stream imports without error.
"""

from __future__ import annotations

import bisect
import datetime as dt
import heapq
import json
import random
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

__all__ = ["generate_demo_events", "write_jsonl"]

IST = dt.timezone(dt.timedelta(hours=5, minutes=30))
_IST_OFFSET = 5 * 3600 + 30 * 60
MINUTE = 60
HOUR = 3600
DAY = 86400
VALIDITY = 365 * DAY  # the organization's default points validity

ACTION_PURCHASE = 100
ACTION_REDEMPTION = 102
ACTION_SURVEY = 172
ACTION_SECTION = 173
ACTION_CAMPAIGN = 1008
ACTION_PROFILE = 200
ACTION_APP = 201
ACTION_REFERRAL = 202
ACTION_TRACKER = 203
ACTION_MILESTONE = 204

EXTRA_ACTIONS = (
    (ACTION_PROFILE, "Profile Completed"),
    (ACTION_APP, "App Download"),
    (ACTION_REFERRAL, "Referral"),
    (ACTION_TRACKER, "Visit Tracker"),
    (ACTION_MILESTONE, "Milestone Reward"),
)

# storeId, name, region, storeType
STORES = (
    ("ST-MUM-01", "Mumbai Colaba Flagship", "West", "Flagship"),
    ("ST-MUM-02", "Mumbai Phoenix Palladium", "West", "Mall"),
    ("ST-DEL-01", "Delhi Connaught Place Flagship", "North", "Flagship"),
    ("ST-DEL-02", "Delhi Select Citywalk", "North", "Mall"),
    ("ST-BLR-01", "Bengaluru UB City", "South", "Mall"),
    ("ST-BLR-02", "Bengaluru Indiranagar", "South", "High Street"),
    ("ST-CHE-01", "Chennai Express Avenue", "South", "Mall"),
    ("ST-HYD-01", "Hyderabad Inorbit Mall", "South", "Mall"),
    ("ST-PUN-01", "Pune Phoenix Marketcity", "West", "Mall"),
    ("ST-KOL-01", "Kolkata Quest Mall", "East", "Mall"),
    ("ST-AMD-01", "Ahmedabad Alpha One", "West", "Mall"),
    ("ST-JAI-01", "Jaipur World Trade Park", "North", "Mall"),
    ("ST-KOC-01", "Kochi Lulu Mall", "South", "Mall"),
    ("ST-CHD-01", "Chandigarh Elante", "North", "Mall"),
    ("ST-LKO-01", "Lucknow Phoenix Palassio", "North", "Mall"),
    ("ST-GOA-01", "Goa Panjim Outlet", "West", "Outlet"),
    ("ST-GGN-01", "Gurugram Ambience Outlet", "North", "Outlet"),
    ("ST-BBS-01", "Bhubaneswar Esplanade", "East", "Mall"),
    ("ST-DXB-01", "Dubai Mall", "Middle East", "Mall"),
    ("ST-SIN-01", "Singapore Orchard Road", "APAC", "Flagship"),
    ("ST-LON-01", "London Oxford Street", "Europe", "Flagship"),
    ("ST-NYC-01", "New York Fifth Avenue", "North America", "Flagship"),
    ("ST-KUL-01", "Kuala Lumpur Pavilion", "APAC", "Mall"),
    ("ST-WEB-01", "Online Store India", "Online", "Online"),
    ("ST-APP-01", "Mobile App Store", "Online", "Online"),
)
_PHYSICAL = tuple(s[0] for s in STORES if s[3] != "Online")
# Most members shop in India; the international stores see the odd traveller.
_HOME_WEIGHTS = tuple(
    1.0 if s[2] not in {"Middle East", "APAC", "Europe", "North America"} else 0.15
    for s in STORES
    if s[3] != "Online"
)
_WEB_STORE = "ST-WEB-01"
_APP_STORE = "ST-APP-01"

# campaignId, name
CAMPAIGNS = (
    ("CMP-DIWALI", "Diwali Double Points"),
    ("CMP-HOLI", "Holi Colour Bonus"),
    ("CMP-SUMMER", "Summer Splash Bonus"),
    ("CMP-XMAS", "Christmas & New Year Cheer"),
    ("CMP-BDAY", "Birthday Bonus"),
    ("CMP-WEEKEND", "Weekend Bonanza"),
    ("CMP-WELCOME", "Welcome Bonus"),
)
# Seasonal windows as ((month, day), (month, day)), inclusive, in the program's time zone.
_SEASONS = {
    "CMP-DIWALI": ((10, 15), (11, 15)),
    "CMP-HOLI": ((3, 1), (3, 25)),
    "CMP-SUMMER": ((5, 1), (6, 30)),
    "CMP-XMAS": ((12, 15), (1, 10)),
}

# actionSeriesId, name, rewardName, points
SERIES = (
    ("AS-STREAK", "Purchase Streak", "Streak Bonus 150", 150),
    ("AS-EXPLORER", "Store Explorer", "Explorer Bonus 100", 100),
    ("AS-REVIEW", "Review Writer", "Review Reward 50", 50),
)

# surveyId, name, sections
SURVEYS = (
    (
        "SRV-STORE",
        "Store Experience Survey",
        (
            ("SEC-CHECKOUT", "Checkout"),
            ("SEC-STAFF", "Staff Helpfulness"),
            ("SEC-AMBIENCE", "Store Ambience"),
        ),
    ),
    (
        "SRV-PRODUCT",
        "Product Feedback Survey",
        (("SEC-QUALITY", "Quality"), ("SEC-VALUE", "Value for Money")),
    ),
)
SECTION_POINTS = 25
SURVEY_POINTS = 100

FIRST_NAMES = tuple(
    (
        "Aarav Vivaan Aditya Arjun Rohan Karan Rahul Vikram Siddharth Ananya Priya Diya Isha "
        "Kavya Meera Neha Pooja Riya Sneha Tanvi Farhan Imran Ayesha Sana Gurpreet Harleen James "
        "Oliver Liam Noah Emma Olivia Sophia Mia Chloe Lucas Ethan Hannah Daniel Grace Mateo Wei "
        "Yuki Fatima"
    ).split()
)
LAST_NAMES = tuple(
    (
        "Sharma Verma Patel Iyer Nair Reddy Gupta Mehta Kapoor Singh Khan Das Menon Chatterjee "
        "Banerjee Joshi Kulkarni Rao Pillai Fernandes Bhatt Malhotra Smith Johnson Brown Williams "
        "Taylor Anderson Thomas Wilson Martin Clarke Walker Wright Lee Chen Garcia Rossi"
    ).split()
)
TIERS = ("Silver", "Gold", "Platinum")
_TIER_SPEND = (30000.0, 90000.0)  # qualifying spend that lifts Silver -> Gold -> Platinum

CHANNELS = ("SMS", "EMAIL", "WECHAT", "WEBENGAGE", "SURVEY")
_CHANNEL_ACCOUNT = {
    "SMS": "Demo Loyalty SMS",
    "EMAIL": "Demo Loyalty Mailer",
    "WECHAT": "Demo Loyalty WeChat",
    "WEBENGAGE": "WebEngage Push",
    "SURVEY": "Demo Loyalty Surveys",
}
_MESSAGES = {
    "SMS": (
        ("Points update", "Hi {first}, you have {balance} points. Redeem them at any store."),
        ("Order confirmed", "Hi {first}, thanks for shopping with us! Points are on their way."),
        ("Exclusive offer", "{first}, enjoy 20% off this weekend. Show this SMS at the till."),
    ),
    "EMAIL": (
        ("Your monthly points statement", "Dear {first}, your balance is {balance} points."),
        ("Festive offers inside", "{first}, our festive collection is here with bonus points."),
        ("We miss you", "It has been a while, {first}. Here is something to welcome you back."),
        ("Your points are expiring soon", "Use your points before they expire, {first}."),
    ),
    "WECHAT": (
        ("Member exclusive", "{first}, a members-only preview starts tomorrow."),
        ("New arrivals", "Fresh styles just landed, {first}. Tap to explore."),
    ),
    "WEBENGAGE": (
        ("Don't miss out!", "{first}, items in your cart are selling fast."),
        ("Flash sale is live", "Double points on app orders for the next 3 hours."),
    ),
    "SURVEY": (
        ("Tell us about your visit", "Take a 2-minute survey and earn up to 175 points."),
        ("How did we do?", "{first}, rate your recent purchase and earn bonus points."),
    ),
}
_OPENABLE = {"EMAIL", "WECHAT", "WEBENGAGE", "SURVEY"}

_TRACKED = (
    ("App Open", "APP"),
    ("Product Viewed", "APP"),
    ("Added To Cart", "APP"),
    ("Product Viewed", "WEB"),
    ("Added To Cart", "WEB"),
    ("Wishlist Added", "APP"),
    ("Store Check-in", "POS"),
    ("Product Reviewed", "WEB"),
)
_PRODUCT_CATEGORIES = ("Apparel", "Footwear", "Beauty", "Home", "Electronics", "Accessories")

_LEAD_TYPES = (
    ("Credit Card", "Co-branded Platinum Visa Card"),
    ("Home Delivery", "Express Home Delivery Subscription"),
    ("Personal Shopper", "Wedding Season Styling Session"),
    ("Tier Upgrade", "Platinum Membership"),
    ("Corporate Gifting", "Diwali Corporate Hampers"),
)
_AGENTS = ("Anita Desai", "Rakesh Menon", "Sarah Collins", "Vikas Jain", "Nisha Rao")

_LIFECYCLE = ("New", "Active", "Loyal", "At Risk", "Lapsed")
_VALUE = ("Low", "Medium", "High")
_CHANNEL_PREF = ("Store", "Online", "Omnichannel")

_COUPON_SERIES = (
    ("SAVE10", 30),
    ("FESTIVE20", 45),
    ("FREESHIP", 60),
    ("BDAY500", 30),
    ("WINBACK15", 90),
)
_BASE36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

# Heap entry kinds.
_ENROLL, _TICK, _STATUS, _COUPON_REDEEM, _LEAD_UPDATE, _SURVEY_DONE, _MERGE, _ONBOARD = range(8)
_ON_PROFILE, _ON_APP, _ON_EXTERNAL = range(3)


class _Member:
    """What the generator remembers of one member: profile bits, lots and a few open orders."""

    __slots__ = (
        "balance",
        "birth_month",
        "cid",
        "email",
        "engagement",
        "first",
        "group",
        "home",
        "idx",
        "last",
        "last_purchase",
        "lead_open",
        "lifecycle",
        "lots",
        "merged",
        "opted_in",
        "orders",
        "pref",
        "purchases",
        "role",
        "spend",
        "tier",
        "value",
    )

    def __init__(self, idx: int) -> None:
        self.idx = idx
        self.cid = f"CUST-{idx + 1:06d}"
        self.first = 0
        self.last = 0
        self.email = ""
        self.opted_in = False
        self.tier = TIERS[0]
        self.group = 0  # 0: no group
        self.role = "Member"
        self.merged = False
        # Open lots as [expiresAt, earnedAt, seq, remaining], sorted: earliest expiry first,
        # then earliest earned, then creation order, exactly as the ledger consumes them.
        self.lots: list[list[int]] = []
        self.balance = 0
        # Returnable orders: [orderId, amount, at, storeId, source, {(action, campaign): pts}]
        self.orders: list[list[Any]] = []
        self.purchases = 0
        self.spend = 0.0
        self.last_purchase = 0
        self.lifecycle = 0
        self.value = -1
        self.pref = -1
        self.lead_open = False
        self.engagement = 1.0
        self.home = _PHYSICAL[0]
        self.birth_month = 1


def _floor_share(total: int, share: float) -> int:
    # The ledger's rounding for partial returns (cumulative floor, tiny epsilon).
    if share >= 1:
        return total
    return int(total * share + 1e-9)


class _Generator:
    def __init__(
        self,
        *,
        members: int,
        days: int,
        seed: int,
        end: dt.datetime,
        has_surveys: bool,
        has_hierarchy: bool,
    ) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.n_members = max(0, members)
        self.end = int(end.timestamp())
        self.start = self.end - max(1, days) * DAY
        self.span = self.end - self.start
        self.has_surveys = has_surveys
        self.has_hierarchy = has_hierarchy
        self.members: list[_Member] = []
        self.groups: dict[int, list[int]] = {}
        self.open_group = 0
        self.open_group_left = 0
        self.heap: list[tuple[Any, ...]] = []
        self.push_seq = 0
        self.now = self.start
        self.buf: list[dict[str, Any]] = []
        self.event_no = 0
        self.lot_seq = 0
        self.counters = {
            "order": 0,
            "coupon": 0,
            "message": 0,
            "tracking": 0,
            "lead": 0,
            "transfer": 0,
            "mobile": 0,
            "email": 0,
        }
        self._iso_cache = (-1, "")
        kinds: list[tuple[str, float]] = [
            ("purchase", 34.0),
            ("redeem", 9.0),
            ("promo", 5.0),
            ("tracker", 4.0),
            ("comm", 7.0),
            ("track", 6.0),
            ("return", 4.0),
            ("transfer", 3.0),
            ("coupon", 4.0),
            ("lead", 1.2),
            ("segment", 1.5),
            ("update", 1.2),
            ("identifier", 1.0),
            ("tier_review", 0.4),
        ]
        if has_surveys:
            kinds.append(("survey", 3.0))
        self.tick_kinds = [k for k, _ in kinds]
        self.tick_cum: list[float] = []
        total = 0.0
        for _, w in kinds:
            total += w
            self.tick_cum.append(total)
        self.channels = CHANNELS if has_surveys else CHANNELS[:-1]
        self.channel_weights = (30, 35, 8, 15, 12)[: len(self.channels)]

    # ------------------------------------------------------------------ plumbing

    def iso(self, ts: int) -> str:
        if self._iso_cache[0] != ts:
            self._iso_cache = (ts, dt.datetime.fromtimestamp(ts, IST).isoformat())
        return self._iso_cache[1]

    def emit(self, ts: int, kind: str, fields: dict[str, Any], *, keep_none: bool = False) -> None:
        self.event_no += 1
        event: dict[str, Any] = {
            "type": kind,
            "id": f"demo-{self.seed}-{self.event_no:08d}",
            "occurredAt": self.iso(ts),
        }
        for key, value in fields.items():
            if value is not None or keep_none:
                event[key] = value
        self.buf.append(event)

    def push(self, ts: int, kind: int, *payload: Any) -> None:
        ts = max(int(ts), self.now)
        if ts > self.end:
            return
        self.push_seq += 1
        heapq.heappush(self.heap, (ts, self.push_seq, kind, payload))

    def next_id(self, name: str) -> int:
        self.counters[name] += 1
        return self.counters[name]

    def daytime(self, ts: int) -> int:
        """Moves an instant into shopping hours (09:00-22:00 in the program's time zone)."""
        of_day = (ts + _IST_OFFSET) % DAY
        if of_day < 9 * HOUR:
            return ts + (9 * HOUR - of_day) + self.rng.randrange(4 * HOUR)
        if of_day >= 22 * HOUR:
            return ts + (DAY - of_day) + 9 * HOUR + self.rng.randrange(4 * HOUR)
        return ts

    def local_date(self, ts: int) -> dt.date:
        return dt.datetime.fromtimestamp(ts, IST).date()

    # ------------------------------------------------------------------ ledger tracking

    def expire(self, m: _Member, ts: int) -> None:
        lots = m.lots
        if lots and lots[0][0] <= ts:
            k = 0
            while k < len(lots) and lots[k][0] <= ts:
                m.balance -= lots[k][3]
                k += 1
            del lots[:k]

    def credit(self, m: _Member, ts: int, points: int, expires: int | None = None) -> None:
        self.lot_seq += 1
        bisect.insort(m.lots, [expires or ts + VALIDITY, ts, self.lot_seq, points])
        m.balance += points

    def debit(self, m: _Member, points: int) -> None:
        left = points
        lots = m.lots
        k = 0
        while left and k < len(lots):
            part = min(lots[k][3], left)
            lots[k][3] -= part
            left -= part
            if lots[k][3] == 0:
                k += 1
        del lots[:k]
        assert left == 0, "debit beyond the tracked balance"
        m.balance -= points

    # ------------------------------------------------------------------ the run

    def run(self) -> Iterator[dict[str, Any]]:
        yield from self.catalog()
        if self.n_members:
            first = self.start + HOUR + self.rng.randrange(2 * HOUR)
            self.push(self.enroll_time(0, first), _ENROLL, 0)
            merges = self.n_members // 200 if self.n_members >= 200 else int(self.n_members >= 20)
            for _ in range(merges):
                at = self.start + int(self.span * self.rng.uniform(0.35, 0.98))
                self.push(self.daytime(at), _MERGE)
        handlers: dict[int, Callable[..., None]] = {
            _ENROLL: self.on_enroll,
            _TICK: self.on_tick,
            _STATUS: self.on_status,
            _COUPON_REDEEM: self.on_coupon_redeem,
            _LEAD_UPDATE: self.on_lead_update,
            _SURVEY_DONE: self.on_survey_done,
            _MERGE: self.on_merge,
            _ONBOARD: self.on_onboard,
        }
        heap = self.heap
        while heap:
            ts, _, kind, payload = heapq.heappop(heap)
            self.now = ts
            handlers[kind](ts, *payload)
            if self.buf:
                yield from self.buf
                self.buf.clear()

    def catalog(self) -> Iterator[dict[str, Any]]:
        at = self.start
        for store_id, name, region, store_type in STORES:
            self.emit(
                at,
                "store.upserted",
                {"storeId": store_id, "name": name, "region": region, "storeType": store_type},
            )
        for action_id, name in EXTRA_ACTIONS:
            self.emit(at, "action.defined", {"actionId": action_id, "name": name})
        for campaign_id, name in CAMPAIGNS:
            self.emit(at, "campaign.defined", {"campaignId": campaign_id, "name": name})
        for series_id, name, _, _ in SERIES:
            self.emit(at, "actionSeries.defined", {"actionSeriesId": series_id, "name": name})
        if self.has_surveys:
            for survey_id, name, sections in SURVEYS:
                self.emit(
                    at,
                    "survey.defined",
                    {
                        "surveyId": survey_id,
                        "name": name,
                        "sections": [{"sectionId": s, "name": n} for s, n in sections],
                    },
                )
        yield from self.buf
        self.buf.clear()

    def enroll_time(self, idx: int, floor: int) -> int:
        # Enrollment leans towards the start of the period so most members have a history.
        share = ((idx + self.rng.random()) / self.n_members) ** 1.4
        at = self.start + HOUR + int((self.span - 2 * HOUR) * 0.96 * share)
        return max(self.daytime(at), floor)

    def gap(self, m: _Member) -> int:
        mean_days = 23.0 / m.engagement
        return int(self.rng.expovariate(1.0 / mean_days) * DAY) + 5 * MINUTE

    def schedule_tick(self, m: _Member, ts: int) -> None:
        self.push(self.daytime(ts + self.gap(m)), _TICK, m.idx)

    def pick_member(self, *, opted_in: bool = False, exclude: int = -1) -> _Member | None:
        count = len(self.members)
        for _ in range(12):
            m = self.members[self.rng.randrange(count)]
            if m.merged or m.idx == exclude or (opted_in and not m.opted_in):
                continue
            return m
        return None

    # ------------------------------------------------------------------ enrollment

    def on_enroll(self, ts: int, idx: int) -> None:
        rng = self.rng
        m = _Member(idx)
        self.members.append(m)
        m.first = rng.randrange(len(FIRST_NAMES))
        m.last = rng.randrange(len(LAST_NAMES))
        first, last = FIRST_NAMES[m.first], LAST_NAMES[m.last]
        domain = "example.com" if rng.random() < 0.65 else "example.org"
        m.email = f"{first.lower()}.{last.lower()}{idx + 1}@{domain}"
        m.opted_in = rng.random() < 0.8
        m.tier = rng.choices(TIERS, weights=(72, 21, 7))[0]
        m.role = "Staff" if rng.random() < 0.03 else "Member"
        m.engagement = min(4.0, max(0.25, rng.lognormvariate(0.0, 0.6)))
        m.home = rng.choices(_PHYSICAL, weights=_HOME_WEIGHTS)[0]
        m.birth_month = rng.randint(1, 12)
        if self.has_hierarchy and rng.random() < 0.3:
            if self.open_group_left <= 0:
                self.open_group = len(self.groups) + 1
                self.open_group_left = rng.randint(2, 4)
                self.groups[self.open_group] = []
            m.group = self.open_group
            self.groups[m.group].append(idx)
            self.open_group_left -= 1
        self.emit(
            ts,
            "customer.enrolled",
            {
                "customerId": m.cid,
                "name": f"{first} {last}",
                "email": m.email,
                "mobile": self.mobile("98", idx),
                "optedIn": m.opted_in,
                "tier": m.tier,
                "userRole": m.role,
                "groupId": f"GRP-{m.group:05d}" if m.group else None,
            },
        )
        if idx + 1 < self.n_members:
            self.push(self.enroll_time(idx + 1, ts), _ENROLL, idx + 1)
        # Onboarding: a welcome message, perhaps a welcome bonus, coupon and referral credit.
        self.communicate(ts, m, "EMAIL", welcome=True)
        if rng.random() < 0.5:
            self.earn(
                ts,
                m,
                rng.choice((100, 150, 200)),
                ACTION_CAMPAIGN,
                campaign="CMP-WELCOME",
                category="PROMOTION",
                source="POS",
                store=m.home,
                expires=ts + 90 * DAY,
            )
        if rng.random() < 0.3:
            self.issue_coupon(ts, m, series=("SAVE10", 30))
        if len(self.members) > 1 and rng.random() < 0.12:
            referrer = self.pick_member(exclude=idx)
            if referrer is not None:
                self.earn(
                    ts,
                    referrer,
                    250,
                    ACTION_REFERRAL,
                    custom_id=m.cid,
                    reason=f"Referred {first} {last}",
                    source="APP",
                )
        if rng.random() < 0.6:
            self.push(ts + rng.randint(10 * MINUTE, 5 * DAY), _ONBOARD, idx, _ON_PROFILE)
        if rng.random() < 0.45:
            self.push(ts + rng.randint(HOUR, 10 * DAY), _ONBOARD, idx, _ON_APP)
        if rng.random() < 0.5:
            self.push(ts + rng.randint(MINUTE, 2 * DAY), _ONBOARD, idx, _ON_EXTERNAL)
        self.schedule_tick(m, ts)

    def mobile(self, prefix: str, n: int) -> str:
        # A bijection of n onto 8 digits (7919 is coprime with 10**8): unique and varied.
        return f"+91{prefix}{(n * 7919 + 4_210_337) % 100_000_000:08d}"

    def on_onboard(self, ts: int, idx: int, step: int) -> None:
        m = self.members[idx]
        if m.merged:
            return
        if step == _ON_PROFILE:
            self.earn(ts, m, 100, ACTION_PROFILE, source="APP", reason="Profile 100% complete")
        elif step == _ON_APP:
            self.earn(
                ts,
                m,
                50,
                ACTION_APP,
                source="APP",
                store=_APP_STORE,
                reason="Installed the mobile app",
            )
            self.track(ts, m, "App Open", "APP")
        else:
            self.emit(
                ts,
                "customer.identifierChanged",
                {
                    "customerId": m.cid,
                    "identifierType": "EXTERNAL_ID",
                    "value": f"EXT-{idx + 1:06d}",
                    "source": "CRM",
                    "account": "Salesforce",
                },
            )

    # ------------------------------------------------------------------ ticks

    def on_tick(self, ts: int, idx: int) -> None:
        m = self.members[idx]
        if m.merged:
            return
        roll = self.rng.random() * self.tick_cum[-1]
        kind = self.tick_kinds[bisect.bisect_right(self.tick_cum, roll)]
        done = getattr(self, "do_" + kind)(ts, m)
        if done is False:
            self.purchase(ts, m)
        self.schedule_tick(m, ts)

    def earn(
        self,
        ts: int,
        m: _Member,
        points: int,
        action_id: int,
        *,
        order_id: str | None = None,
        custom_id: str | None = None,
        store: str | None = None,
        source: str | None = None,
        reason: str | None = None,
        campaign: str | None = None,
        series: tuple[str, str, str, int] | None = None,
        survey: str | None = None,
        section: str | None = None,
        expires: int | None = None,
        category: str | None = None,
        tracker_value: float | None = None,
    ) -> None:
        self.expire(m, ts)
        fields: dict[str, Any] = {
            "customerId": m.cid,
            "points": points,
            "actionId": action_id,
            "orderId": order_id,
            "customId": custom_id,
            "storeId": store,
            "source": source,
            "reason": reason,
            "campaignId": campaign,
            "actionSeriesId": series[0] if series else None,
            "rewardName": series[2] if series else None,
            "surveyId": survey,
            "sectionId": section,
            "expiresAt": self.iso(expires) if expires else None,
            "category": category,
            "trackerValue": tracker_value,
        }
        if m.group:
            fields["groupPoints"] = points
        self.emit(ts, "points.earned", fields)
        self.credit(m, ts, points, expires)

    def active_campaigns(self, ts: int, m: _Member) -> list[str]:
        day = self.local_date(ts)
        found = []
        md = (day.month, day.day)
        for campaign_id, (begin, finish) in _SEASONS.items():
            inside = begin <= md <= finish if begin <= finish else md >= begin or md <= finish
            if inside:
                found.append(campaign_id)
        if day.month == m.birth_month:
            found.append("CMP-BDAY")
        if day.weekday() >= 5:
            found.append("CMP-WEEKEND")
        return found

    def purchase(self, ts: int, m: _Member, *, returnable: bool = True) -> tuple[str, str, str]:
        rng = self.rng
        self.expire(m, ts)
        roll = rng.random()
        if roll < 0.68:
            store, source = (m.home if rng.random() < 0.8 else rng.choice(_PHYSICAL)), "POS"
        elif roll < 0.85:
            store, source = _WEB_STORE, "ECOM"
        else:
            store, source = _APP_STORE, "APP"
        amount = round(min(20000.0, max(200.0, rng.lognormvariate(7.35, 0.8))), 2)
        if m.role == "Staff" or rng.random() < 0.04:
            points = 0  # staff purchases and excluded categories earn nothing
        else:
            points = int(amount // 100)
        order_id = f"ORD-{self.next_id('order'):06d}"
        fields: dict[str, Any] = {
            "customerId": m.cid,
            "orderId": order_id,
            "amount": amount,
            "storeId": store,
            "source": source,
            "pointsEarned": points,
        }
        if m.group and points:
            fields["groupPoints"] = points
        self.emit(ts, "transaction.purchased", fields)
        groups: dict[tuple[int, str | None], int] = {}
        if points:
            self.credit(m, ts, points)
            groups[(ACTION_PURCHASE, None)] = points
        active = self.active_campaigns(ts, m)
        if active and points:
            campaign = rng.choice(active)
            chance = {"CMP-WEEKEND": 0.35, "CMP-BDAY": 0.7}.get(campaign, 0.8)
            if rng.random() < chance:
                if campaign == "CMP-DIWALI":
                    bonus = points
                elif campaign == "CMP-WEEKEND":
                    bonus = 50
                else:
                    bonus = max(25, points // 2)
                self.earn(
                    ts,
                    m,
                    bonus,
                    ACTION_CAMPAIGN,
                    order_id=order_id,
                    store=store,
                    source=source,
                    campaign=campaign,
                    category="PROMOTION",
                )
                groups[(ACTION_CAMPAIGN, campaign)] = bonus
        m.purchases += 1
        m.spend += amount
        m.last_purchase = ts
        if returnable:
            m.orders.append([order_id, amount, ts, store, source, groups])
            if len(m.orders) > 3:
                del m.orders[0]
        # Action series and tiers follow the purchase.
        if m.purchases % 3 == 0 and m.role != "Staff":
            self.earn(
                ts,
                m,
                SERIES[0][3],
                ACTION_MILESTONE,
                series=SERIES[0],
                source=source,
                custom_id=f"STREAK-{m.purchases // 3}",
            )
        elif source == "POS" and store != m.home and rng.random() < 0.3:
            self.earn(
                ts, m, SERIES[1][3], ACTION_MILESTONE, series=SERIES[1], store=store, source=source
            )
        level = TIERS.index(m.tier)
        if level < 2 and m.spend >= _TIER_SPEND[level]:
            self.change_tier(ts, m, TIERS[level + 1], "Qualifying spend reached")
        lifecycle = 2 if m.purchases >= 6 else 1 if m.purchases >= 2 else 0
        if lifecycle > m.lifecycle or m.lifecycle >= 3:  # grows, or wins back a lapsing member
            self.segment(ts, m, "Lifecycle", lifecycle)
        return order_id, store, source

    def change_tier(self, ts: int, m: _Member, to_tier: str, reason: str) -> None:
        self.emit(
            ts,
            "tier.changed",
            {"customerId": m.cid, "fromTier": m.tier, "toTier": to_tier, "reason": reason},
        )
        m.tier = to_tier

    def segment(self, ts: int, m: _Member, segment: str, to: int) -> None:
        names: tuple[str, ...]
        if segment == "Lifecycle":
            names, before = _LIFECYCLE, m.lifecycle
            m.lifecycle = to
        elif segment == "Value Tier":
            names, before = _VALUE, m.value
            m.value = to
        else:
            names, before = _CHANNEL_PREF, m.pref
            m.pref = to
        self.emit(
            ts,
            "segment.changed",
            {
                "customerId": m.cid,
                "segment": segment,
                "fromPartition": names[before] if before >= 0 else None,
                "toPartition": names[to],
            },
        )

    def do_purchase(self, ts: int, m: _Member) -> bool:
        self.purchase(ts, m)
        return True

    def do_redeem(self, ts: int, m: _Member) -> bool:
        rng = self.rng
        self.expire(m, ts)
        if m.balance < 100:
            return False
        if rng.random() < 0.5:
            # Redeemed at the till against an order: that order is never returned.
            order_id, store, source = self.purchase(ts, m, returnable=False)
        else:
            order_id, store, source = None, _APP_STORE, "APP"
        balance = m.balance
        if rng.random() < 0.2:
            points = balance - balance % 10 or balance
        else:
            options = [p for p in (100, 200, 250, 300, 500, 750, 1000, 1500, 2000) if p <= balance]
            points = rng.choice(options)
        self.emit(
            ts,
            "points.redeemed",
            {
                "customerId": m.cid,
                "points": points,
                "actionId": ACTION_REDEMPTION,
                "orderId": order_id,
                "storeId": store,
                "source": source,
            },
        )
        self.debit(m, points)
        return True

    def do_promo(self, ts: int, m: _Member) -> bool:
        active = [c for c in self.active_campaigns(ts, m) if c != "CMP-WELCOME"]
        if not active:
            return self.do_tracker(ts, m)
        rng = self.rng
        self.earn(
            ts,
            m,
            rng.choice((50, 75, 100, 150, 200, 300)),
            ACTION_CAMPAIGN,
            campaign=rng.choice(active),
            category="PROMOTION",
            source="APP",
            expires=ts + rng.randint(60, 120) * DAY,
        )
        return True

    def do_tracker(self, ts: int, m: _Member) -> bool:
        visits = m.purchases + 1
        self.earn(
            ts,
            m,
            self.rng.choice((20, 25, 40, 50)),
            ACTION_TRACKER,
            category="TRACKER",
            tracker_value=float(visits),
            reason=f"{visits} visits tracked",
            source="SYSTEM",
        )
        return True

    def do_comm(self, ts: int, m: _Member) -> bool:
        channel = self.rng.choices(self.channels, weights=self.channel_weights)[0]
        self.communicate(ts, m, channel)
        return True

    def communicate(self, ts: int, m: _Member, channel: str, *, welcome: bool = False) -> None:
        rng = self.rng
        if welcome:
            subject = "Welcome to Demo Loyalty"
            preview = "Hi {first}, thanks for joining! Start earning points on every purchase."
        else:
            subject, preview = rng.choice(_MESSAGES[channel])
        message_id = f"MSG-{self.next_id('message'):07d}"
        self.expire(m, ts)
        self.emit(
            ts,
            "communication.sent",
            {
                "messageId": message_id,
                "customerId": m.cid,
                "channel": channel,
                "subject": subject,
                "preview": preview.format(first=FIRST_NAMES[m.first], balance=m.balance),
                "status": "SENT",
                "account": _CHANNEL_ACCOUNT[channel],
            },
        )
        self.push(ts + rng.randint(MINUTE, 30 * MINUTE), _STATUS, message_id, channel, 0)
        if channel == "SURVEY" and self.has_surveys and rng.random() < 0.55:
            survey = rng.randrange(len(SURVEYS))
            self.push(self.daytime(ts + rng.randint(HOUR, 2 * DAY)), _SURVEY_DONE, m.idx, survey)

    def on_status(self, ts: int, message_id: str, channel: str, stage: int) -> None:
        rng = self.rng
        if stage == 0:
            roll = rng.random()
            if channel == "EMAIL" and roll < 0.07:
                status = "BOUNCED"
            elif roll < 0.12:
                status = "FAILED"
            else:
                status = "DELIVERED"
        else:
            status = "OPENED" if stage == 1 else "CLICKED"
        self.emit(ts, "communication.statusChanged", {"messageId": message_id, "status": status})
        if status == "DELIVERED" and channel in _OPENABLE and rng.random() < 0.4:
            self.push(ts + rng.randint(10 * MINUTE, 2 * DAY), _STATUS, message_id, channel, 1)
        elif status == "OPENED" and rng.random() < 0.4:
            self.push(ts + rng.randint(MINUTE, 30 * MINUTE), _STATUS, message_id, channel, 2)

    def do_track(self, ts: int, m: _Member) -> bool:
        rng = self.rng
        event, source = rng.choice(_TRACKED)
        self.track(ts, m, event, source)
        if event == "Product Reviewed" and rng.random() < 0.6:
            self.earn(ts, m, SERIES[2][3], ACTION_MILESTONE, series=SERIES[2], source=source)
        return True

    def track(self, ts: int, m: _Member, event: str, source: str) -> None:
        rng = self.rng
        attributes: dict[str, Any] | None = None
        till_code = None
        if source == "POS":
            account = f"pos-{m.home.lower()}"
            till_code = f"TILL-{rng.randint(1, 12):02d}"
            if rng.random() < 0.5:
                # The till the member actually used, which wins over the integration's one.
                attributes = {"tillCode": f"TILL-{rng.randint(1, 12):02d}", "store": m.home}
        else:
            account = rng.choice(("android-app", "ios-app")) if source == "APP" else "website"
            if event != "App Open" or rng.random() < 0.3:
                attributes = {
                    "productId": f"SKU-{rng.randint(10000, 99999)}",
                    "category": rng.choice(_PRODUCT_CATEGORIES),
                }
                if event == "Added To Cart":
                    attributes["quantity"] = rng.randint(1, 3)
        self.emit(
            ts,
            "event.tracked",
            {
                "customerId": m.cid,
                "trackingId": f"TRK-{self.next_id('tracking'):07d}",
                "event": event,
                "source": source,
                "accountId": account,
                "tillCode": till_code,
                "attributes": attributes,
            },
        )

    def do_return(self, ts: int, m: _Member) -> bool:
        rng = self.rng
        recent = [o for o in m.orders if ts - o[2] <= 30 * DAY]
        if not recent:
            return False
        order = rng.choice(recent)
        m.orders.remove(order)
        order_id, amount, _, store, source, groups = order
        if rng.random() < 0.6:
            returned = amount
        else:
            returned = max(0.01, round(amount * rng.uniform(0.2, 0.9), 2))
        self.expire(m, ts)
        self.emit(
            ts,
            "transaction.returned",
            {
                "customerId": m.cid,
                "orderId": order_id,
                "amount": returned,
                "storeId": store,
                "source": source,
            },
        )
        # The returned share exactly as the ledger computes it (nothing returned before: every
        # order is returned at most once), so the reversal rounds down to the same points.
        share = min(1.0, (0.0 + returned) / amount)
        for earned in groups.values():
            due = _floor_share(earned, share)
            take = min(due, m.balance)
            if take > 0:
                self.debit(m, take)
        return True

    def do_transfer(self, ts: int, m: _Member) -> bool:
        if not m.opted_in:
            return False
        self.expire(m, ts)
        if m.balance < 50:
            return False
        receiver = None
        if m.group:
            family = [i for i in self.groups[m.group] if i != m.idx]
            if family:
                candidate = self.members[self.rng.choice(family)]
                if candidate.opted_in and not candidate.merged:
                    receiver = candidate
        if receiver is None:
            receiver = self.pick_member(opted_in=True, exclude=m.idx)
        if receiver is None:
            return False
        options = [p for p in (50, 100, 150, 200, 250, 500, 1000) if p <= m.balance]
        points = self.rng.choice(options)
        self.emit(
            ts,
            "points.transferred",
            {
                "transferId": f"TRF-{self.next_id('transfer'):06d}",
                "senderId": m.cid,
                "receiverId": receiver.cid,
                "points": points,
                "program": "Family Pooling",
            },
        )
        self.debit(m, points)
        self.expire(receiver, ts)
        self.credit(receiver, ts, points)
        return True

    def do_coupon(self, ts: int, m: _Member) -> bool:
        self.issue_coupon(ts, m, series=self.rng.choice(_COUPON_SERIES))
        return True

    def issue_coupon(self, ts: int, m: _Member, *, series: tuple[str, int]) -> None:
        rng = self.rng
        n = self.next_id("coupon")
        scrambled = (n * 7919 + 104_729) % 36**4
        code = "".join(_BASE36[(scrambled // 36**k) % 36] for k in range(3, -1, -1))
        validity = max(30, min(90, series[1] + rng.randint(-5, 15)))
        expires = ts + validity * DAY
        coupon_id = f"CPN-{n:06d}"
        self.expire(m, ts)
        self.emit(
            ts,
            "coupon.issued",
            {
                "couponId": coupon_id,
                "code": f"SAVE-{code}",
                "customerId": m.cid,
                "series": series[0],
                "expiresAt": self.iso(expires),
            },
        )
        if rng.random() < 0.55:
            at = self.daytime(ts + rng.randint(12 * HOUR, int((expires - ts) * 0.85)))
            if at < expires:
                self.push(at, _COUPON_REDEEM, m.idx, coupon_id)

    def on_coupon_redeem(self, ts: int, idx: int, coupon_id: str) -> None:
        m = self.members[idx]
        if m.merged:
            return
        order_id, store, _ = self.purchase(ts, m)
        self.emit(
            ts, "coupon.redeemed", {"couponId": coupon_id, "orderId": order_id, "storeId": store}
        )

    def do_lead(self, ts: int, m: _Member) -> bool:
        if m.lead_open:
            return False
        rng = self.rng
        lead_type, lead_for = rng.choice(_LEAD_TYPES)
        lead_id = f"LEAD-{self.next_id('lead'):05d}"
        extended = {
            "assignedTo": rng.choice(_AGENTS),
            "priority": rng.choice(("High", "Medium", "Low")),
            "channel": rng.choice(("Store", "Call Center", "Website")),
        }
        self.emit(
            ts,
            "lead.created",
            {
                "leadId": lead_id,
                "customerId": m.cid,
                "leadType": lead_type,
                "leadFor": lead_for,
                "status": "OPEN",
                "subStatus": "New",
                "lastFollowUpAt": self.iso(ts),
                "nextFollowUpAt": self.iso(ts + 2 * DAY),
                "extendedFields": extended,
            },
        )
        m.lead_open = True
        self.push(
            self.daytime(ts + rng.randint(DAY, 5 * DAY)),
            _LEAD_UPDATE,
            m.idx,
            lead_id,
            lead_type,
            lead_for,
            1,
        )
        return True

    def on_lead_update(
        self, ts: int, idx: int, lead_id: str, lead_type: str, lead_for: str, step: int
    ) -> None:
        m = self.members[idx]
        if m.merged:
            return
        rng = self.rng
        if step == 1:
            status, sub_status, follow_up = "IN_PROGRESS", "Contacted", ts + 3 * DAY
        elif rng.random() < 0.45:
            status, sub_status, follow_up = "CLOSED", "Converted", None
        else:
            status, sub_status, follow_up = "CLOSED", "Not Interested", None
        self.emit(
            ts,
            "lead.updated",
            {
                "leadId": lead_id,
                "customerId": m.cid,
                "leadType": lead_type,
                "leadFor": lead_for,
                "status": status,
                "subStatus": sub_status,
                "lastFollowUpAt": self.iso(ts),
                "nextFollowUpAt": self.iso(follow_up) if follow_up else None,
                "extendedFields": {"assignedTo": rng.choice(_AGENTS), "attempts": step + 1},
            },
            keep_none=True,
        )
        if step == 1 and rng.random() < 0.8:
            self.push(
                self.daytime(ts + rng.randint(2 * DAY, 10 * DAY)),
                _LEAD_UPDATE,
                idx,
                lead_id,
                lead_type,
                lead_for,
                2,
            )
        else:
            m.lead_open = step == 1

    def do_segment(self, ts: int, m: _Member) -> bool:
        rng = self.rng
        idle = ts - m.last_purchase if m.purchases else 0
        if idle > 120 * DAY and m.lifecycle != 4:
            self.segment(ts, m, "Lifecycle", 4)
        elif idle > 60 * DAY and m.lifecycle not in (3, 4):
            self.segment(ts, m, "Lifecycle", 3)
        else:
            value = 2 if m.spend >= 40000 else 1 if m.spend >= 10000 else 0
            if value != m.value and rng.random() < 0.7:
                self.segment(ts, m, "Value Tier", value)
            else:
                choices = [k for k in range(len(_CHANNEL_PREF)) if k != m.pref]
                self.segment(ts, m, "Channel Preference", rng.choice(choices))
        return True

    def do_update(self, ts: int, m: _Member) -> bool:
        rng = self.rng
        self.expire(m, ts)
        roll = rng.random()
        fields: dict[str, Any] = {"customerId": m.cid}
        if roll < 0.5:
            m.opted_in = not m.opted_in
            fields["optedIn"] = m.opted_in
        elif roll < 0.8:
            m.last = rng.randrange(len(LAST_NAMES))
            fields["name"] = f"{FIRST_NAMES[m.first]} {LAST_NAMES[m.last]}"
        else:
            fields["mobile"] = self.mobile("97", self.next_id("mobile"))
        self.emit(ts, "customer.updated", fields)
        return True

    def do_identifier(self, ts: int, m: _Member) -> bool:
        rng = self.rng
        self.expire(m, ts)
        if rng.random() < 0.5:
            kind, value = "MOBILE", self.mobile("99", self.next_id("mobile"))
            source, account = "POS", f"pos-{m.home.lower()}"
        else:
            n = self.next_id("email")
            first, last = FIRST_NAMES[m.first].lower(), LAST_NAMES[m.last].lower()
            domain = "example.org" if m.email.endswith("example.com") else "example.com"
            kind, value = "EMAIL", f"{first}.{last}.{n}@{domain}"
            m.email = value
            source, account = "APP", rng.choice(("android-app", "ios-app"))
        self.emit(
            ts,
            "customer.identifierChanged",
            {
                "customerId": m.cid,
                "identifierType": kind,
                "value": value,
                "source": source,
                "account": account,
            },
        )
        return True

    def do_tier_review(self, ts: int, m: _Member) -> bool:
        level = TIERS.index(m.tier)
        if level == 0 or m.spend >= _TIER_SPEND[level - 1]:
            return False
        self.expire(m, ts)
        self.change_tier(ts, m, TIERS[level - 1], "Annual tier review")
        m.spend = 0.0
        return True

    def do_survey(self, ts: int, m: _Member) -> bool:
        self.communicate(ts, m, "SURVEY")
        return True

    def on_survey_done(self, ts: int, idx: int, survey: int) -> None:
        m = self.members[idx]
        if m.merged:
            return
        survey_id, _, sections = SURVEYS[survey]
        complete = self.rng.random() < 0.75
        done = sections if complete else sections[: self.rng.randint(1, len(sections) - 1)]
        for section_id, _ in done:
            self.earn(
                ts,
                m,
                SECTION_POINTS,
                ACTION_SECTION,
                survey=survey_id,
                section=section_id,
                source="SURVEY",
            )
        if complete:
            self.earn(ts, m, SURVEY_POINTS, ACTION_SURVEY, survey=survey_id, source="SURVEY")

    # ------------------------------------------------------------------ merges

    def on_merge(self, ts: int) -> None:
        if len(self.members) < 4:
            return
        survivor = self.pick_member()
        merged = self.pick_member(exclude=survivor.idx) if survivor else None
        if survivor is None or merged is None:
            return
        self.expire(survivor, ts)
        self.expire(merged, ts)
        self.emit(
            ts,
            "customer.merged",
            {
                "survivorId": survivor.cid,
                "mergedId": merged.cid,
                "source": "CRM",
                "account": "Duplicate Review",
            },
        )
        # The merged member's lots and balance move to the survivor; it never acts again.
        survivor.lots = sorted(survivor.lots + merged.lots)
        survivor.balance += merged.balance
        merged.lots, merged.balance, merged.orders = [], 0, []
        merged.merged = True
        if merged.group:
            self.groups[merged.group].remove(merged.idx)


def generate_demo_events(
    *,
    members: int = 3000,
    days: int = 365,
    seed: int = 7,
    end: dt.datetime | None = None,
    has_surveys: bool = True,
    has_hierarchy: bool = True,
) -> Iterator[dict[str, Any]]:
    """Streams a demo program's import events, oldest first, the last at or before `end`.

    Deterministic for a given (members, days, seed, end, has_surveys, has_hierarchy); `end`
    defaults to now (UTC, rounded down to the minute), and a naive `end` is taken as UTC.
    """
    if end is None:
        end = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    elif end.tzinfo is None:
        end = end.replace(tzinfo=dt.UTC)
    generator = _Generator(
        members=members,
        days=days,
        seed=seed,
        end=end,
        has_surveys=has_surveys,
        has_hierarchy=has_hierarchy,
    )
    return generator.run()


def write_jsonl(path: str | Path, events: Iterable[dict[str, Any]]) -> int:
    """Writes one JSON object per line; returns how many were written."""
    count = 0
    with Path(path).open("w", encoding="utf-8") as out:
        for event in events:
            out.write(json.dumps(event, ensure_ascii=False, separators=(",", ":")))
            out.write("\n")
            count += 1
    return count
