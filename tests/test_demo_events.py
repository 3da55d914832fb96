"""The demo event generator: deterministic, complete, ordered, and valid under the ledger rules.

No database here: the ledger replay below re-implements the contract's rules ("Points ledger
rules") independently of the generator and checks every event's validity as the importer would.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import json
import re
from collections import Counter, deque
from typing import Any

import pytest

from member360.demo_events import generate_demo_events, write_jsonl

END = dt.datetime(2026, 3, 1, 12, 30, tzinfo=dt.UTC)
VALIDITY = 365 * 86400
CONTRACT_TYPES = {
    "store.upserted",
    "action.defined",
    "campaign.defined",
    "actionSeries.defined",
    "survey.defined",
    "customer.enrolled",
    "customer.updated",
    "customer.identifierChanged",
    "customer.merged",
    "points.earned",
    "transaction.purchased",
    "transaction.returned",
    "points.redeemed",
    "points.transferred",
    "tier.changed",
    "coupon.issued",
    "coupon.redeemed",
    "communication.sent",
    "communication.statusChanged",
    "event.tracked",
    "lead.created",
    "lead.updated",
    "segment.changed",
}
BUILTIN_ACTIONS = {100, 101, 102, 103, 172, 173, 176, 1008}
CHANNELS = {"SMS", "EMAIL", "WECHAT", "WEBENGAGE", "SURVEY"}
STATUSES = {"SENT", "DELIVERED", "OPENED", "CLICKED", "FAILED", "BOUNCED"}

_cache: dict[tuple[Any, ...], list[dict[str, Any]]] = {}


def events(**kwargs: Any) -> list[dict[str, Any]]:
    kwargs.setdefault("end", END)
    key = tuple(sorted(kwargs.items()))
    if key not in _cache:
        _cache[key] = list(generate_demo_events(**kwargs))
    return _cache[key]


def ts(value: str) -> int:
    parsed = dt.datetime.fromisoformat(value)
    assert parsed.tzinfo is not None, f"{value} has no offset"
    return int(parsed.timestamp())


def floor_share(total: int, share: float) -> int:
    return total if share >= 1 else int(total * share + 1e-9)


class Ledger:
    """An independent replay of the contract's ledger and validity rules."""

    def __init__(self) -> None:
        self.actions = set(BUILTIN_ACTIONS)
        self.campaigns: set[str] = set()
        self.series: set[str] = set()
        self.sections: dict[str, set[str]] = {}
        self.stores: set[str] = set()
        self.customers: dict[str, dict[str, Any]] = {}
        self.merged_ids: set[str] = set()
        self.orders: dict[tuple[str, str], dict[str, Any]] = {}
        self.coupons: dict[str, dict[str, Any]] = {}
        self.messages: set[str] = set()
        self.leads: dict[str, str] = {}
        self.transfers: set[str] = set()
        self.seq = itertools.count()
        self.expired = 0
        self.redeemed = 0
        self.min_balance = 0

    # -- members and lots

    def member(self, cid: str) -> dict[str, Any]:
        assert cid in self.customers, f"unknown customer {cid}"
        assert cid not in self.merged_ids, f"event for merged customer {cid}"
        return self.customers[cid]

    def expire(self, m: dict[str, Any], at: int) -> None:
        keep = []
        for lot in m["lots"]:
            if lot[0] <= at:
                self.expired += lot[3]
            else:
                keep.append(lot)
        m["lots"] = keep

    def balance(self, m: dict[str, Any]) -> int:
        return sum(lot[3] for lot in m["lots"])

    def credit(self, m: dict[str, Any], at: int, points: int, expires: int | None = None) -> None:
        assert isinstance(points, int) and points > 0
        bisect.insort(m["lots"], [expires or at + VALIDITY, at, next(self.seq), points])

    def debit(self, m: dict[str, Any], points: int) -> None:
        left = points
        for lot in m["lots"]:  # earliest expiry first, then earliest earned
            part = min(lot[3], left)
            lot[3] -= part
            left -= part
        assert left == 0, "debit beyond the balance"
        m["lots"] = [lot for lot in m["lots"] if lot[3] > 0]
        self.min_balance = min(self.min_balance, self.balance(m), *(lot[3] for lot in m["lots"]))

    def order(self, cid: str, order_id: str) -> dict[str, Any]:
        return self.orders.setdefault(
            (cid, order_id), {"amount": 0.0, "groups": {}, "redeemed": 0, "returned": False}
        )

    # -- events

    def apply(self, e: dict[str, Any]) -> None:
        at = ts(e["occurredAt"])
        kind = e["type"]
        getattr(self, "on_" + kind.replace(".", "_"))(e, at)

    def on_store_upserted(self, e: dict[str, Any], at: int) -> None:
        assert e["name"] and e["region"] and e["storeType"]
        self.stores.add(e["storeId"])

    def on_action_defined(self, e: dict[str, Any], at: int) -> None:
        assert isinstance(e["actionId"], int) and e["name"]
        self.actions.add(e["actionId"])

    def on_campaign_defined(self, e: dict[str, Any], at: int) -> None:
        self.campaigns.add(e["campaignId"])

    def on_actionSeries_defined(self, e: dict[str, Any], at: int) -> None:
        self.series.add(e["actionSeriesId"])

    def on_survey_defined(self, e: dict[str, Any], at: int) -> None:
        assert 2 <= len(e["sections"]) <= 3
        self.sections[e["surveyId"]] = {s["sectionId"] for s in e["sections"]}

    def on_customer_enrolled(self, e: dict[str, Any], at: int) -> None:
        assert e["customerId"] not in self.customers
        assert "@" in e["email"] and re.fullmatch(r"\+9198\d{8}", e["mobile"])
        assert isinstance(e["optedIn"], bool)
        self.customers[e["customerId"]] = {"lots": [], "optedIn": e["optedIn"]}

    def on_customer_updated(self, e: dict[str, Any], at: int) -> None:
        m = self.member(e["customerId"])
        if "optedIn" in e:
            m["optedIn"] = e["optedIn"]

    def on_customer_identifierChanged(self, e: dict[str, Any], at: int) -> None:
        self.member(e["customerId"])
        assert e["identifierType"] in {"MOBILE", "EMAIL", "EXTERNAL_ID"}
        assert e["value"] and e["source"] and e["account"]

    def on_customer_merged(self, e: dict[str, Any], at: int) -> None:
        survivor, merged = self.member(e["survivorId"]), self.member(e["mergedId"])
        assert survivor is not merged and e["source"] and e["account"]
        self.expire(survivor, at)
        self.expire(merged, at)
        survivor["lots"] = sorted(survivor["lots"] + merged["lots"])
        merged["lots"] = []
        self.merged_ids.add(e["mergedId"])
        for (cid, order_id), order in list(self.orders.items()):
            if cid == e["mergedId"]:
                self.orders[(e["survivorId"], order_id)] = order

    def on_points_earned(self, e: dict[str, Any], at: int) -> None:
        m = self.member(e["customerId"])
        assert e["actionId"] in self.actions
        if e["actionId"] == 1008:
            assert e["campaignId"] in self.campaigns
        if "campaignId" in e:
            assert e["campaignId"] in self.campaigns
        if "actionSeriesId" in e:
            assert e["actionSeriesId"] in self.series and e["rewardName"]
        if "sectionId" in e:
            assert e["sectionId"] in self.sections[e["surveyId"]]
        if "surveyId" in e:
            assert e["surveyId"] in self.sections
        if "storeId" in e:
            assert e["storeId"] in self.stores
        expires = ts(e["expiresAt"]) if "expiresAt" in e else None
        assert expires is None or expires > at
        assert e.get("category", "REGULAR") in {"REGULAR", "PROMOTION", "TRACKER"}
        if e.get("category") == "TRACKER":
            assert isinstance(e["trackerValue"], float)
        self.expire(m, at)
        self.credit(m, at, e["points"], expires)
        if "orderId" in e:
            order = self.order(e["customerId"], e["orderId"])
            key = (1008, e["campaignId"]) if e["actionId"] == 1008 else (101, None)
            order["groups"][key] = order["groups"].get(key, 0) + e["points"]

    def on_transaction_purchased(self, e: dict[str, Any], at: int) -> None:
        m = self.member(e["customerId"])
        assert (e["customerId"], e["orderId"]) not in self.orders, "order recorded twice"
        assert re.fullmatch(r"ORD-\d{6,}", e["orderId"])
        amount = e["amount"]
        assert 200 <= amount <= 20000 and round(amount, 2) == amount
        assert e["pointsEarned"] in (0, int(amount // 100))
        assert e["storeId"] in self.stores and e["source"] in {"POS", "ECOM", "APP"}
        assert e.get("actionId", 100) == 100
        self.expire(m, at)
        order = self.order(e["customerId"], e["orderId"])
        order["amount"] = amount
        if e["pointsEarned"]:
            self.credit(m, at, e["pointsEarned"])
            order["groups"][(101, None)] = order["groups"].get((101, None), 0) + e["pointsEarned"]

    def on_transaction_returned(self, e: dict[str, Any], at: int) -> None:
        m = self.member(e["customerId"])
        order = self.orders.get((e["customerId"], e["orderId"]))
        assert order is not None and order["amount"] > 0, "return of an unknown order"
        assert not order["returned"], "order returned twice"
        assert 0 < e["amount"] <= order["amount"]
        assert not order["redeemed"], "the generator never returns an order redeemed against"
        order["returned"] = True
        self.expire(m, at)
        share = min(1.0, e["amount"] / order["amount"])
        for earned in order["groups"].values():
            take = min(floor_share(earned, share), self.balance(m))
            if take:
                self.debit(m, take)

    def on_points_redeemed(self, e: dict[str, Any], at: int) -> None:
        m = self.member(e["customerId"])
        assert e["actionId"] == 102 and isinstance(e["points"], int) and e["points"] > 0
        self.expire(m, at)
        assert e["points"] <= self.balance(m), "redemption beyond the balance"
        self.debit(m, e["points"])
        self.redeemed += e["points"]
        if "orderId" in e:
            self.order(e["customerId"], e["orderId"])["redeemed"] += e["points"]

    def on_points_transferred(self, e: dict[str, Any], at: int) -> None:
        sender, receiver = self.member(e["senderId"]), self.member(e["receiverId"])
        assert sender is not receiver and e["program"] == "Family Pooling"
        assert sender["optedIn"] and receiver["optedIn"], "transfer party not opted in"
        assert e["transferId"] not in self.transfers
        self.transfers.add(e["transferId"])
        self.expire(sender, at)
        self.expire(receiver, at)
        assert 0 < e["points"] <= self.balance(sender), "transfer beyond the balance"
        self.debit(sender, e["points"])
        self.credit(receiver, at, e["points"])

    def on_tier_changed(self, e: dict[str, Any], at: int) -> None:
        self.member(e["customerId"])
        assert e["fromTier"] != e["toTier"]
        assert {e["fromTier"], e["toTier"]} <= {"Silver", "Gold", "Platinum"}

    def on_coupon_issued(self, e: dict[str, Any], at: int) -> None:
        self.member(e["customerId"])
        assert e["couponId"] not in self.coupons
        assert re.fullmatch(r"SAVE-[0-9A-Z]{4}", e["code"])
        expires = ts(e["expiresAt"])
        assert 30 * 86400 <= expires - at <= 90 * 86400
        self.coupons[e["couponId"]] = {"expires": expires, "redeemed": False}

    def on_coupon_redeemed(self, e: dict[str, Any], at: int) -> None:
        coupon = self.coupons[e["couponId"]]
        assert not coupon["redeemed"] and at < coupon["expires"]
        coupon["redeemed"] = True

    def on_communication_sent(self, e: dict[str, Any], at: int) -> None:
        self.member(e["customerId"])
        assert e["messageId"] not in self.messages and e["channel"] in CHANNELS
        assert e["status"] == "SENT" and e["subject"] and e["preview"]
        self.messages.add(e["messageId"])

    def on_communication_statusChanged(self, e: dict[str, Any], at: int) -> None:
        assert e["messageId"] in self.messages and e["status"] in STATUSES

    def on_event_tracked(self, e: dict[str, Any], at: int) -> None:
        self.member(e["customerId"])
        assert e["trackingId"] and e["event"] and e["source"]

    def on_lead_created(self, e: dict[str, Any], at: int) -> None:
        self.member(e["customerId"])
        assert e["leadId"] not in self.leads
        self.leads[e["leadId"]] = e["customerId"]

    def on_lead_updated(self, e: dict[str, Any], at: int) -> None:
        self.member(e["customerId"])
        assert self.leads.get(e["leadId"]) == e["customerId"]

    def on_segment_changed(self, e: dict[str, Any], at: int) -> None:
        self.member(e["customerId"])
        assert e["segment"] and e["toPartition"] and e["toPartition"] != e.get("fromPartition")


def test_same_seed_same_events_and_another_seed_differs() -> None:
    first = list(generate_demo_events(members=120, end=END))
    again = list(generate_demo_events(members=120, end=END))
    other = list(generate_demo_events(members=120, end=END, seed=8))
    assert first == again
    assert first != other


def test_every_contract_event_type_appears() -> None:
    kinds = Counter(e["type"] for e in events(members=300))
    assert set(kinds) == CONTRACT_TYPES
    assert kinds["store.upserted"] >= 20
    assert kinds["campaign.defined"] >= 5
    assert kinds["actionSeries.defined"] == 3
    assert kinds["survey.defined"] == 2
    assert kinds["customer.enrolled"] == 300


def test_every_points_flavour_and_channel_appears() -> None:
    stream = events(members=300)
    earned = [e for e in stream if e["type"] == "points.earned"]
    assert {200, 201, 202, 172, 173, 1008} <= {e["actionId"] for e in earned}
    assert {"PROMOTION", "TRACKER"} <= {e.get("category") for e in earned}
    assert any("actionSeriesId" in e and "rewardName" in e for e in earned)
    assert any(e["actionId"] == 1008 and "orderId" in e for e in earned)
    assert any("groupPoints" in e for e in earned)
    sent = [e for e in stream if e["type"] == "communication.sent"]
    assert {e["channel"] for e in sent} == CHANNELS
    statuses = {e["status"] for e in stream if e["type"] == "communication.statusChanged"}
    assert statuses == STATUSES - {"SENT"}
    identifiers = {e["identifierType"] for e in stream if e["type"] == "customer.identifierChanged"}
    assert identifiers == {"MOBILE", "EMAIL", "EXTERNAL_ID"}
    tracked = [e for e in stream if e["type"] == "event.tracked"]
    assert any("tillCode" in e for e in tracked)
    assert any("tillCode" in e.get("attributes", {}) for e in tracked)


def test_ids_unique_and_occurred_at_ordered_within_the_period() -> None:
    stream = events(members=300)
    ids = [e["id"] for e in stream]
    assert len(ids) == len(set(ids))
    times = [ts(e["occurredAt"]) for e in stream]
    assert times == sorted(times)
    assert times[-1] <= END.timestamp()
    assert times[0] >= END.timestamp() - 365 * 86400
    assert all(re.search(r"[+-]\d\d:\d\d$", e["occurredAt"]) for e in stream)
    for key in ("orderId", "couponId", "messageId", "trackingId", "transferId"):
        creating = {
            "orderId": "transaction.purchased",
            "couponId": "coupon.issued",
            "messageId": "communication.sent",
            "trackingId": "event.tracked",
            "transferId": "points.transferred",
        }[key]
        values = [e[key] for e in stream if e["type"] == creating]
        assert len(values) == len(set(values)), key


def test_members_look_real() -> None:
    stream = events(members=300)
    enrolled = [e for e in stream if e["type"] == "customer.enrolled"]
    assert len({e["email"] for e in enrolled}) == 300
    assert len({e["mobile"] for e in enrolled}) == 300
    assert {e["email"].rsplit("@", 1)[1] for e in enrolled} == {"example.com", "example.org"}
    assert 0.7 <= sum(e["optedIn"] for e in enrolled) / 300 <= 0.9
    assert {e["tier"] for e in enrolled} == {"Silver", "Gold", "Platinum"}
    assert {e["userRole"] for e in enrolled} <= {"Member", "Staff"}
    assert 0.2 <= sum("groupId" in e for e in enrolled) / 300 <= 0.4
    external = {
        e["customerId"]
        for e in stream
        if e["type"] == "customer.identifierChanged" and e["identifierType"] == "EXTERNAL_ID"
    }
    assert 0.4 <= len(external) / 300 <= 0.6
    per_member = (len(stream) - sum(1 for e in stream if e["type"].endswith("defined"))) / 300
    assert 15 <= per_member <= 35
    points = sum(e["type"].startswith(("points.", "transaction.")) for e in stream)
    assert points > len(stream) / 2


@pytest.mark.parametrize(
    "options",
    [
        {"members": 300},
        {"members": 250, "seed": 3, "has_surveys": False, "has_hierarchy": False},
        {"members": 150, "seed": 11, "days": 120},
    ],
)
def test_ledger_replay_never_overdraws(options: dict[str, Any]) -> None:
    ledger = Ledger()
    for number, event in enumerate(events(**options), 1):
        try:
            ledger.apply(event)
        except AssertionError as exc:  # pragma: no cover - names the event that broke a rule
            raise AssertionError(f"event {number} {json.dumps(event)}: {exc}") from exc
    assert ledger.min_balance >= 0
    assert ledger.redeemed > 0
    assert ledger.expired > 0
    assert ledger.merged_ids


def test_switches_leave_out_surveys_and_hierarchy() -> None:
    stream = events(members=250, seed=3, has_surveys=False, has_hierarchy=False)
    kinds = {e["type"] for e in stream}
    assert kinds == CONTRACT_TYPES - {"survey.defined"}
    assert not any("surveyId" in e or "groupPoints" in e or "groupId" in e for e in stream)
    assert not any(e.get("channel") == "SURVEY" for e in stream)


def test_streams_without_building_the_whole_list() -> None:
    stream = generate_demo_events(members=5_000_000, end=END)
    assert iter(stream) is stream
    head = list(itertools.islice(stream, 200))
    assert head[0]["type"] == "store.upserted"
    assert any(e["type"] == "customer.enrolled" for e in head)


def test_default_end_is_now_rounded_to_the_minute() -> None:
    before = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    tail = deque(generate_demo_events(members=20, days=30), maxlen=1)
    last = tail[0]
    after = dt.datetime.now(dt.UTC)
    assert dt.datetime.fromisoformat(last["occurredAt"]) <= after
    first = next(generate_demo_events(members=20, days=30))
    assert dt.datetime.fromisoformat(first["occurredAt"]) >= before - dt.timedelta(days=30)


def test_write_jsonl(tmp_path: Any) -> None:
    source = events(members=30, days=60)
    path = tmp_path / "demo.jsonl"
    assert write_jsonl(path, iter(source)) == len(source)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == source
