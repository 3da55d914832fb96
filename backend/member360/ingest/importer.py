"""Applies import events in order: validate, run the ledger rules in memory, write in bulk.

Events arrive in batches; each batch is one transaction that first takes the organization's
ledger lock, loads the state its events need in a few queries, applies the events one by one,
then flushes every row it wrote with one executemany per table. The first invalid event ends
the import: the events before it are committed, so fixing the line and re-running the file
resumes (event ids make the re-run skip what was applied, and refuse an id used again for
different content).

An invalid event changes nothing at all, not even the expiry that applying it ran first. A
handler may find the event invalid after it has changed state (the expiry before a redemption
decides whether the balance covers it), so the batch's transaction is rolled back and the
events before the invalid one are applied again in a new one: the import stops there anyway,
so this costs one batch once, and no handler has to undo its own changes.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
from collections.abc import AsyncIterable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from member360.db import Database, one_of, table
from member360.errors import InputError
from member360.history.behavioral_events import ingest as behavioral_events
from member360.history.communications import ingest as communications
from member360.history.coupons import ingest as coupons
from member360.history.identifiers import ingest as identifiers
from member360.history.leads import ingest as leads
from member360.history.segments import ingest as segments
from member360.history.tiers import ingest as tiers
from member360.history.transactions import ingest as transactions
from member360.ingest import schemas as ev
from member360.ingest.limits import INT_MAX
from member360.ingest.schemas import EventError, fingerprint, parse_event
from member360.ingest.unit import UnitOfWork
from member360.ledger.engine import (
    MAX_CREDITED,
    Consumed,
    CreditLimitExceeded,
    LotState,
    Member,
    consume,
    due_lots,
    proportional_delta,
)
from member360.ledger.models import ActivityKind, Category
from member360.models import member_tables
from member360.orgs.models import (
    ACTION_CAMPAIGN,
    ACTION_EXPIRED,
    ACTION_PURCHASE,
    ACTION_RETURN,
    ACTION_TRANSFER,
)
from member360.orgs.service import OrgInfo


@dataclass
class ImportError_:
    """The first event that could not apply: its position (line or index), field and reason.

    `field` is empty only for a line of a file that is no event at all (not UTF-8).
    """

    position: int
    field: str
    message: str
    event_id: str | None = None

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class _Refused(Exception):
    """Ends a batch's transaction (rolling it back) at the event at `index` of the batch."""

    def __init__(self, index: int, error: ImportError_) -> None:
        super().__init__(str(error))
        self.index = index
        self.error = error


# The field an event is named by when its credit would take a member's lifetime points, or
# lifetime group points, beyond MAX_CREDITED (a return credits what it gives back of a
# redemption; a merge adds the merged member's lifetime sums to the survivor's).
CREDIT_FIELD = {
    "points.earned": "points",
    "transaction.purchased": "pointsEarned",
    "points.transferred": "points",
    "transaction.returned": "amount",
    "customer.merged": "mergedId",
}
GROUP_CREDIT_FIELD = {
    "points.earned": "groupPoints",
    "transaction.purchased": "groupPoints",
    "customer.merged": "mergedId",
}


@dataclass
class ImportOutcome:
    applied: int = 0
    duplicates: int = 0
    error: ImportError_ | None = None
    expired_points: int = 0


@dataclass
class Catalog:
    actions: dict[int, str] = field(default_factory=dict)
    campaigns: dict[str, str] = field(default_factory=dict)
    series: dict[str, str] = field(default_factory=dict)
    surveys: dict[str, str] = field(default_factory=dict)
    sections: dict[tuple[str, str], str] = field(default_factory=dict)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# Imports at least this big refresh SQLite's planner statistics when they finish.
STATISTICS_AFTER_EVENTS = 1000


class Importer:
    def __init__(self, db: Database, org: OrgInfo, *, batch_size: int = 2000) -> None:
        self.db = db
        self.org = org
        self.tz = org.tz
        self.batch_size = batch_size
        self.validity = dt.timedelta(days=org.default_validity_days)

    # ------------------------------------------------------------------ running

    async def run(
        self, items: Iterable[tuple[int, Any]] | AsyncIterable[tuple[int, Any]]
    ) -> ImportOutcome:
        """Applies (position, raw event) pairs in order, then expires what is due up to now."""
        outcome = ImportOutcome()
        try:
            async for chunk in _chunks(items, self.batch_size):
                parsed: list[tuple[int, ev.Event]] = []
                for position, raw in chunk:
                    try:
                        parsed.append((position, parse_event(raw)))
                    except EventError as exc:
                        outcome.error = ImportError_(position, exc.field, exc.message, exc.event_id)
                        break
                if parsed:
                    await self._apply_batch(parsed, outcome)
                if outcome.error is not None:
                    break
        finally:
            outcome.expired_points += await self.expire_due(_now())
        if outcome.applied >= STATISTICS_AFTER_EVENTS:
            # A bulk load changes the tables' shape; SQLite plans from stored statistics.
            await self.db.refresh_statistics()
        return outcome

    async def _apply_batch(
        self, parsed: list[tuple[int, ev.Event]], outcome: ImportOutcome
    ) -> None:
        while parsed:
            try:
                applied, duplicates = await self._apply_in_transaction(parsed)
            except _Refused as refused:
                # Rolled back: the batch wrote nothing. What came before the refused event
                # applies again (a concurrent writer may make an earlier one fail this time:
                # then that one is the first invalid event).
                outcome.error = refused.error
                parsed = parsed[: refused.index]
                continue
            outcome.applied += applied
            outcome.duplicates += duplicates
            return

    async def _apply_in_transaction(self, parsed: list[tuple[int, ev.Event]]) -> tuple[int, int]:
        """Applies every event of `parsed` in one transaction: (applied, duplicates).

        Raises `_Refused` (the transaction rolled back) at the first invalid event.
        """
        applied = duplicates = 0
        async with self.db.session(self.org.id) as session, session.begin():
            await self._begin(session)
            await self._prefetch([e for _, e in parsed])
            for index, (position, event) in enumerate(parsed):
                content = fingerprint(event)
                known = self.seen.get(event.id)
                if known is not None:
                    if _same_event(known, event.type, content):
                        duplicates += 1
                        continue
                    raise _Refused(
                        index,
                        ImportError_(
                            position,
                            "id",
                            "id already used by a different event (a new event needs a new id)",
                            event.id,
                        ),
                    )
                try:
                    await self._apply(event)
                except EventError as exc:
                    raise _Refused(
                        index, ImportError_(position, exc.field, exc.message, event.id)
                    ) from None
                self.seen[event.id] = (event.type, content)
                await self.uow.add(
                    "ingested_events",
                    {
                        "event_id": event.id,
                        "type": event.type,
                        "fingerprint": content,
                        "applied_at": _now(),
                    },
                )
                applied += 1
            await self._flush()
        return applied, duplicates

    async def expire_due(self, now: dt.datetime, *, batch: int = 2000) -> int:
        """Expires every lot of the organization whose expiry has come by `now`."""
        total = 0
        lots = table("lots")
        # Most imports (every ingestEvents call) end with nothing due: one indexed probe, then,
        # only when something is due, the ledger lock and the catalog.
        async with self.db.session(self.org.id) as session:
            due = await session.scalar(
                select(lots.c.id)
                .where(lots.c.org_id == self.org.id, lots.c.remaining > 0, lots.c.expires_at <= now)
                .limit(1)
            )
        if due is None:
            return 0
        while True:
            async with self.db.session(self.org.id) as session, session.begin():
                await self._begin(session)
                pks = (
                    await session.scalars(
                        select(lots.c.customer_id)
                        .where(
                            lots.c.org_id == self.org.id,
                            lots.c.remaining > 0,
                            lots.c.expires_at <= now,
                        )
                        .distinct()
                        .limit(batch)
                    )
                ).all()
                if not pks:
                    return total
                await self._load_members_by_pk(set(pks))
                for pk in pks:
                    member = self.by_pk[pk]
                    before = member.balance
                    await self._expire(member, now)
                    total += before - member.balance
                await self._flush()

    # ------------------------------------------------------------------ state

    async def _begin(self, session: AsyncSession) -> None:
        """Starts a transaction's state; the org row update is the per-org writer lock.

        On PostgreSQL the row lock serialises ledger writers of one organization across
        processes; on SQLite the first write takes the database's single write lock.
        """
        await session.execute(
            text("UPDATE organizations SET ledger_version = ledger_version + 1 WHERE id = :id"),
            {"id": self.org.id},
        )
        if session.bind.dialect.name == "postgresql":
            # Tables grow fast during an import: a plan cached while they were small (a scan)
            # would stay in use, so each batch's lookups are planned with their real sizes.
            await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
        self.session = session
        self.uow = UnitOfWork(session, self.org.id)
        self.by_cid: dict[str, Member] = {}
        self.by_pk: dict[int, Member] = {}
        self.lots_by_id: dict[int, LotState] = {}
        self.coupons = coupons.Coupons(self.uow)
        self.messages = communications.Messages(self.uow)
        self.leads = leads.Leads(self.uow)
        self.purchased: set[tuple[int, str]] = set()
        self.orders_in_unit: set[tuple[int, str]] = set()
        self.transfers: set[str] = set()
        # Event ids applied before: (type, fingerprint; None for events applied before 0006).
        self.seen: dict[str, tuple[str, str | None]] = {}
        self.catalog = await self._load_catalog()

    async def _load_catalog(self) -> Catalog:
        s, org = self.session, self.org.id
        cat = Catalog()
        t = table("actions")
        cat.actions = dict(
            (await s.execute(select(t.c.action_id, t.c.name).where(t.c.org_id == org))).all()
        )  # type: ignore[arg-type]
        t = table("campaigns")
        cat.campaigns = dict(
            (await s.execute(select(t.c.campaign_id, t.c.name).where(t.c.org_id == org))).all()
        )  # type: ignore[arg-type]
        t = table("action_series")
        cat.series = dict(
            (await s.execute(select(t.c.action_series_id, t.c.name).where(t.c.org_id == org))).all()
        )  # type: ignore[arg-type]
        t = table("surveys")
        cat.surveys = dict(
            (await s.execute(select(t.c.survey_id, t.c.name).where(t.c.org_id == org))).all()
        )  # type: ignore[arg-type]
        t = table("survey_sections")
        rows = await s.execute(
            select(t.c.survey_id, t.c.section_id, t.c.name).where(t.c.org_id == org)
        )
        cat.sections = {(r.survey_id, r.section_id): r.name for r in rows}
        return cat

    async def _prefetch(self, events: list[ev.Event]) -> None:
        """Loads, in a handful of queries, everything the batch's events refer to."""
        s, org = self.session, self.org.id
        ids = [e.id for e in events]
        t = table("ingested_events")
        for part in self._parts(ids):
            rows = await s.execute(
                select(t.c.event_id, t.c.type, t.c.fingerprint).where(
                    t.c.org_id == org, one_of(t.c.event_id, part, self.uow.dialect)
                )
            )
            self.seen.update((r.event_id, (r.type, r.fingerprint)) for r in rows)
        cids: set[str] = set()
        coupon_ids: set[str] = set()
        message_ids: set[str] = set()
        lead_ids: set[str] = set()
        purchase_orders: set[str] = set()
        for e in events:
            for attr in _member_fields(type(e)):
                value = getattr(e, attr)
                if value is not None:
                    cids.add(value)
            if isinstance(e, ev.CouponIssued | ev.CouponRedeemed):
                coupon_ids.add(e.coupon_id)
            elif isinstance(e, ev.CommunicationSent | ev.CommunicationStatusChanged):
                message_ids.add(e.message_id)
            elif isinstance(e, ev.LeadEvent):
                lead_ids.add(e.lead_id)
            elif isinstance(e, ev.TransactionPurchased):
                purchase_orders.add(e.order_id)
        await self._load_members_by_cid(cids)
        self.coupons.by_id.update(await self._rows_by(coupons.TABLE, coupons.KEY, coupon_ids))
        self.messages.by_id.update(
            await self._rows_by(communications.TABLE, communications.KEY, message_ids)
        )
        self.leads.by_id.update(await self._rows_by(leads.TABLE, leads.KEY, lead_ids))
        owners = {row["customer_id"] for row in self.coupons.by_id.values()}
        await self._load_members_by_pk(owners)
        t = table("transactions")
        for part in self._parts(list(purchase_orders)):
            rows = await s.execute(
                select(t.c.customer_id, t.c.order_id).where(
                    t.c.org_id == org,
                    t.c.type == "PURCHASE",
                    one_of(t.c.order_id, part, self.uow.dialect),
                )
            )
            self.purchased.update((r.customer_id, r.order_id) for r in rows)

    async def _rows_by(self, name: str, key: str, values: set[str]) -> dict[str, dict[str, Any]]:
        t = table(name)
        found: dict[str, dict[str, Any]] = {}
        for part in self._parts(list(values)):
            rows = await self.session.execute(
                select(t).where(t.c.org_id == self.org.id, one_of(t.c[key], part, self.uow.dialect))
            )
            for r in rows.mappings():
                found[r[key]] = dict(r)
        return found

    async def _load_members_by_cid(self, cids: set[str]) -> None:
        missing = [c for c in cids if c not in self.by_cid]
        t = table("customers")
        for part in self._parts(missing):
            rows = await self.session.execute(
                select(t).where(
                    t.c.org_id == self.org.id, one_of(t.c.customer_id, part, self.uow.dialect)
                )
            )
            await self._adopt_members([r._asdict() for r in rows])

    async def _load_members_by_pk(self, pks: set[int]) -> None:
        missing = [p for p in pks if p not in self.by_pk]
        t = table("customers")
        for part in self._parts(missing):
            rows = await self.session.execute(
                select(t).where(t.c.org_id == self.org.id, one_of(t.c.id, part, self.uow.dialect))
            )
            await self._adopt_members([r._asdict() for r in rows])

    async def _adopt_members(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        members = [Member(row) for row in rows]
        for m in members:
            self.by_pk[m.pk] = m
            self.by_cid[m.row["customer_id"]] = m
        lots = table("lots")
        rows_by_pk = [m.pk for m in members]
        for part in self._parts(rows_by_pk):
            result = await self.session.execute(
                select(lots).where(
                    lots.c.org_id == self.org.id,
                    one_of(lots.c.customer_id, part, self.uow.dialect),
                    lots.c.remaining > 0,
                )
            )
            for r in result.mappings():
                lot = _lot_from_row(r)
                self.lots_by_id[lot.id] = lot
                self.by_pk[lot.customer_id].lots.append(lot)
        for m in members:
            m.lots.sort(key=LotState.sort_key)
        survivors = {m.row["merged_into_id"] for m in members if m.row["merged_into_id"]}
        await self._load_members_by_pk(survivors)

    def _parts(self, values: list[Any]) -> Iterable[list[Any]]:
        # SQLite caps bound parameters per statement; PostgreSQL takes one array parameter.
        return _parts(values, 500 if self.uow.dialect == "sqlite" else 20_000)

    def _member(self, customer_id: str, field_name: str = "customerId") -> Member:
        member = self.by_cid.get(customer_id)
        if member is None:
            raise EventError(field_name, f"unknown customer {customer_id!r}")
        while member.row["merged_into_id"]:
            member = self.by_pk[member.row["merged_into_id"]]
        return member

    async def _flush(self) -> None:
        for member in self.by_pk.values():
            if member.dirty:
                self.uow.changed("customers", member.row)
                member.dirty = False
            member.new = False
        for lot in self.lots_by_id.values():
            if lot.new:
                await self.uow.add("lots", lot.as_row(self.org.id))
            elif lot.dirty:
                self.uow.changed("lots", {"id": lot.id, "remaining": lot.remaining})
            lot.new = lot.dirty = False
        await self.uow.flush()
        self.orders_in_unit.clear()

    # ------------------------------------------------------------------ ledger writes

    def _local_date(self, at: dt.datetime) -> dt.date:
        return at.astimezone(self.tz).date()

    async def _activity(
        self,
        member: Member,
        kind: ActivityKind,
        at: dt.datetime,
        action_id: int,
        points: int,
        event_id: str | None,
        **values: Any,
    ) -> dict[str, Any]:
        assert points != 0, "zero-point activities are never written"
        row = await self.uow.add(
            "points_activities",
            {
                "customer_id": member.pk,
                "kind": kind.value,
                "category": values.pop("category", Category.REGULAR.value),
                "occurred_at": at,
                "local_date": self._local_date(at),
                "action_id": action_id,
                "points": points,
                "event_id": event_id,
                "points_reversed": 0,
                "points_unrecovered": values.pop("points_unrecovered", 0),
                **values,
            },
        )
        if row["order_id"] is not None:
            self.orders_in_unit.add((member.pk, row["order_id"]))
        return row

    async def _credit(
        self,
        member: Member,
        kind: ActivityKind,
        at: dt.datetime,
        action_id: int,
        points: int,
        event_id: str | None,
        expires_at: dt.datetime | None = None,
        **values: Any,
    ) -> dict[str, Any]:
        # First: a credit past the lifetime cap writes nothing, not even its activity row.
        member.credit(points, values.get("group_points"))
        expires_at = expires_at or at + self.validity
        row = await self._activity(
            member, kind, at, action_id, points, event_id, expires_at=expires_at, **values
        )
        lot = LotState(
            id=await self.uow.new_id("lots"),
            customer_id=member.pk,
            activity_id=row["id"],
            earned_at=at,
            expires_at=expires_at,
            points=points,
            remaining=points,
            new=True,
        )
        self.lots_by_id[lot.id] = lot
        member.add_lot(lot)
        return row

    async def _debit(
        self,
        member: Member,
        kind: ActivityKind,
        at: dt.datetime,
        action_id: int,
        points: int,
        event_id: str | None,
        **values: Any,
    ) -> dict[str, Any]:
        row = await self._activity(member, kind, at, action_id, -points, event_id, **values)
        await self._record_consumption(row, consume(member, points))
        member.add_points(-points)
        return row

    async def _record_consumption(self, activity: dict[str, Any], taken: list[Consumed]) -> None:
        for part in taken:
            await self.uow.add(
                "lot_consumptions",
                {
                    "activity_id": activity["id"],
                    "lot_id": part.lot.id,
                    "points": part.points,
                    "restored": 0,
                },
            )

    async def _expire(self, member: Member, at: dt.datetime) -> None:
        """Expires the member's lots due by `at`, one activity per expiry instant."""
        due = due_lots(member, at)
        if not due:
            return
        for instant, group in itertools.groupby(due, key=lambda lot: lot.expires_at):
            await self._expire_lots(member, list(group), instant)

    async def _expire_lots(
        self, member: Member, lots: list[LotState], instant: dt.datetime
    ) -> None:
        amount = sum(lot.remaining for lot in lots)
        if amount == 0:
            return
        row = await self._activity(
            member, ActivityKind.EXPIRY, instant, ACTION_EXPIRED, -amount, None
        )
        taken = [Consumed(lot, lot.remaining) for lot in lots]
        for lot in lots:
            lot.remaining = 0
            lot.dirty = True
        member.lots = [lot for lot in member.lots if lot.remaining > 0]
        member.add_points(-amount)
        await self._record_consumption(row, taken)

    # ------------------------------------------------------------------ events

    async def _apply(self, event: ev.Event) -> None:
        handler = getattr(self, "_on_" + event.type.replace(".", "_"))
        try:
            await handler(event)
        except InputError as exc:
            # A domain's handler (history/<type>/ingest.py) names the field it refuses.
            field_name = exc.field or "event"
            raise EventError(field_name, str(exc).removeprefix(f"{field_name}: ")) from None
        except CreditLimitExceeded as exc:
            fields, what = (
                (GROUP_CREDIT_FIELD, "group points") if exc.group else (CREDIT_FIELD, "points")
            )
            raise EventError(
                fields.get(event.type, "event"),
                f"would take the lifetime {what} of customer {exc.member.row['customer_id']!r} "
                f"to {exc.total}, beyond the largest GraphQL Int ({MAX_CREDITED}); every "
                "credit counts, spent or not",
            ) from None

    async def _upsert(self, name: str, keys: dict[str, Any], values: dict[str, Any]) -> None:
        t = table(name)
        cond = and_(t.c.org_id == self.org.id, *(t.c[k] == v for k, v in keys.items()))
        found = await self.session.scalar(select(t.c.id).where(cond))
        if found is None:
            await self.session.execute(t.insert().values(org_id=self.org.id, **keys, **values))
        else:
            await self.session.execute(update(t).where(t.c.id == found).values(**values))

    async def _on_store_upserted(self, e: ev.StoreUpserted) -> None:
        await self._upsert(
            "stores",
            {"store_id": e.store_id},
            {"name": e.name, "region": e.region, "store_type": e.store_type},
        )

    async def _on_action_defined(self, e: ev.ActionDefined) -> None:
        await self._upsert("actions", {"action_id": e.action_id}, {"name": e.name})
        self.catalog.actions[e.action_id] = e.name

    async def _on_campaign_defined(self, e: ev.CampaignDefined) -> None:
        await self._upsert("campaigns", {"campaign_id": e.campaign_id}, {"name": e.name})
        self.catalog.campaigns[e.campaign_id] = e.name

    async def _on_actionSeries_defined(self, e: ev.ActionSeriesDefined) -> None:
        await self._upsert(
            "action_series", {"action_series_id": e.action_series_id}, {"name": e.name}
        )
        self.catalog.series[e.action_series_id] = e.name

    async def _on_survey_defined(self, e: ev.SurveyDefined) -> None:
        await self._upsert("surveys", {"survey_id": e.survey_id}, {"name": e.name})
        self.catalog.surveys[e.survey_id] = e.name
        for section in e.sections:
            await self._upsert(
                "survey_sections",
                {"survey_id": e.survey_id, "section_id": section.section_id},
                {"name": section.name},
            )
            self.catalog.sections[(e.survey_id, section.section_id)] = section.name

    # customers

    async def _on_customer_enrolled(self, e: ev.CustomerEnrolled) -> None:
        if e.customer_id in self.by_cid:
            raise EventError("customerId", f"customer {e.customer_id!r} is already enrolled")
        at = e.occurred_at
        row = await self.uow.add(
            "customers",
            {
                "customer_id": e.customer_id,
                "name": e.name,
                "email": e.email,
                "mobile": e.mobile,
                "external_id": None,
                "opted_in": e.opted_in,
                "tier": e.tier,
                "user_role": e.user_role,
                "group_id": e.group_id,
                "points_balance": 0,
                "points_credited": 0,
                "group_points_credited": 0,
                "merged_into_id": None,
                "enrolled_at": at,
                "updated_at": at,
            },
        )
        member = Member(row, new=True)
        self.by_cid[e.customer_id] = member
        self.by_pk[member.pk] = member
        for kind, value in (("EMAIL", e.email), ("MOBILE", e.mobile)):
            if value:
                await identifiers.changed(
                    self.uow, member.pk, at, kind, value, "ADD", "ENROLLMENT", None
                )
        if e.tier:
            await self._tier(member, at, None, e.tier, "Enrollment")

    async def _tier(
        self,
        member: Member,
        at: dt.datetime,
        from_tier: str | None,
        to_tier: str,
        reason: str | None,
    ) -> None:
        await tiers.changed(self.uow, member.pk, at, from_tier, to_tier, reason)
        member.row["tier"] = to_tier
        member.dirty = True

    async def _on_customer_updated(self, e: ev.CustomerUpdated) -> None:
        member = self._member(e.customer_id)
        await self._expire(member, e.occurred_at)
        given = e.model_fields_set
        row = member.row
        for attr, kind in (("email", "EMAIL"), ("mobile", "MOBILE")):
            value = getattr(e, attr)
            if attr in given and value and value != row[attr]:
                await identifiers.changed(
                    self.uow, member.pk, e.occurred_at, kind, value, "ADD", "PROFILE_UPDATE", None
                )
        if "tier" in given and e.tier and e.tier != row["tier"]:
            await self._tier(member, e.occurred_at, row["tier"], e.tier, "Profile update")
        for attr in ("name", "email", "mobile", "opted_in", "user_role", "group_id"):
            if attr in given:
                row[attr] = getattr(e, attr)
        row["updated_at"] = e.occurred_at
        member.dirty = True

    async def _on_customer_identifierChanged(self, e: ev.IdentifierChanged) -> None:
        member = self._member(e.customer_id)
        await self._expire(member, e.occurred_at)
        column = {"MOBILE": "mobile", "EMAIL": "email", "EXTERNAL_ID": "external_id"}[
            e.identifier_type
        ]
        if e.identifier_type == "EMAIL" and "@" not in e.value:
            raise EventError("value", "is not an email address")
        await identifiers.changed(
            self.uow,
            member.pk,
            e.occurred_at,
            e.identifier_type,
            e.value,
            "ADD",
            e.source,
            e.account,
        )
        member.row[column] = e.value
        member.row["updated_at"] = e.occurred_at
        member.dirty = True

    async def _on_customer_merged(self, e: ev.CustomerMerged) -> None:
        survivor = self._member(e.survivor_id, "survivorId")
        merged = self.by_cid.get(e.merged_id)
        if merged is None:
            raise EventError("mergedId", f"unknown customer {e.merged_id!r}")
        if merged.row["merged_into_id"]:
            raise EventError("mergedId", f"customer {e.merged_id!r} is already merged")
        if merged is survivor:
            raise EventError("mergedId", "must differ from survivorId")
        at = e.occurred_at
        await self._expire(survivor, at)
        await self._expire(merged, at)
        # The survivor takes over the merged member's history, so its lifetime sums too (and
        # the cap on them): checked before any row moves.
        survivor.absorb(merged)
        # Rows already written move in SQL; flush first so none is left behind in the buffer.
        await self._flush()
        for name in member_tables():  # the rows that follow a merged member
            t = table(name)
            await self.session.execute(
                update(t)
                .where(t.c.org_id == self.org.id, t.c.customer_id == merged.pk)
                .values(
                    customer_id=survivor.pk,
                    original_customer_id=text(
                        f"COALESCE({name}.original_customer_id, {merged.pk})"
                    ),
                )
            )
        # Other members' transfers with the merged member now name the survivor.
        pa = table("points_activities")
        await self.session.execute(
            update(pa)
            .where(pa.c.org_id == self.org.id, pa.c.counterparty_id == merged.pk)
            .values(counterparty_id=survivor.pk)
        )
        for lot in merged.lots:
            lot.customer_id = survivor.pk
            lot.original_customer_id = lot.original_customer_id or merged.pk
            survivor.add_lot(lot)
        merged.lots = []
        for column in ("email", "mobile", "external_id"):
            if not survivor.row[column] and merged.row[column]:
                survivor.row[column] = merged.row[column]
        merged.row["merged_into_id"] = survivor.pk
        merged.row["updated_at"] = survivor.row["updated_at"] = at
        # Changed since the flush above: written by the next one.
        merged.dirty = survivor.dirty = True
        await identifiers.changed(
            self.uow,
            survivor.pk,
            at,
            "CUSTOMER_ID",
            merged.row["customer_id"],
            "COMBINE",
            e.source,
            e.account,
        )
        await identifiers.changed(
            self.uow,
            merged.pk,
            at,
            "CUSTOMER_ID",
            survivor.row["customer_id"],
            "COMBINE",
            e.source,
            e.account,
        )

    # points

    def _check_action(self, action_id: int, field_name: str = "actionId") -> None:
        if action_id not in self.catalog.actions:
            raise EventError(field_name, f"action {action_id} is not defined")

    def _check_campaign(self, campaign_id: str | None) -> None:
        if campaign_id is not None and campaign_id not in self.catalog.campaigns:
            raise EventError("campaignId", f"campaign {campaign_id!r} is not defined")

    def _reason_for(self, action_id: int, campaign_id: str | None, given: str | None) -> str | None:
        if action_id == ACTION_CAMPAIGN and campaign_id:
            return self.catalog.campaigns[campaign_id]
        return given

    async def _on_points_earned(self, e: ev.PointsEarned) -> None:
        member = self._member(e.customer_id)
        self._check_action(e.action_id)
        self._check_campaign(e.campaign_id)
        if e.action_id == ACTION_CAMPAIGN and e.campaign_id is None:
            raise EventError("campaignId", "is required for action 1008 (Campaign Benefit)")
        if e.action_series_id is not None and e.action_series_id not in self.catalog.series:
            raise EventError(
                "actionSeriesId", f"action series {e.action_series_id!r} is not defined"
            )
        if e.survey_id is not None and e.survey_id not in self.catalog.surveys:
            raise EventError("surveyId", f"survey {e.survey_id!r} is not defined")
        if e.section_id is not None:
            if e.survey_id is None:
                raise EventError("surveyId", "is required with sectionId")
            if (e.survey_id, e.section_id) not in self.catalog.sections:
                raise EventError(
                    "sectionId", f"section {e.section_id!r} is not part of survey {e.survey_id!r}"
                )
        if e.expires_at is not None and e.expires_at <= e.occurred_at:
            raise EventError("expiresAt", "must be after occurredAt")
        await self._expire(member, e.occurred_at)
        reason = self._reason_for(e.action_id, e.campaign_id, e.reason)
        if e.action_series_id is not None and e.action_id != ACTION_CAMPAIGN:
            reason = self.catalog.series[e.action_series_id]
        category = e.category or (
            Category.PROMOTION.value if e.campaign_id else Category.REGULAR.value
        )
        await self._credit(
            member,
            ActivityKind.EARN,
            e.occurred_at,
            e.action_id,
            e.points,
            e.id,
            expires_at=e.expires_at,
            category=category,
            order_id=e.order_id,
            custom_id=e.custom_id,
            store_id=e.store_id,
            source=e.source,
            reason=reason,
            campaign_id=e.campaign_id,
            action_series_id=e.action_series_id,
            reward_name=e.reward_name,
            survey_id=e.survey_id,
            section_id=e.section_id,
            tracker_value=e.tracker_value,
            group_points=e.group_points,
        )

    async def _on_transaction_purchased(self, e: ev.TransactionPurchased) -> None:
        member = self._member(e.customer_id)
        action_id = e.action_id if e.action_id is not None else ACTION_PURCHASE
        self._check_action(action_id)
        self._check_campaign(e.campaign_id)
        if action_id == ACTION_CAMPAIGN and e.campaign_id is None:
            raise EventError("campaignId", "is required for action 1008 (Campaign Benefit)")
        if (member.pk, e.order_id) in self.purchased:
            raise EventError(
                "orderId", f"order {e.order_id!r} is already recorded for this customer"
            )
        await self._expire(member, e.occurred_at)
        self.purchased.add((member.pk, e.order_id))
        await transactions.recorded(
            self.uow,
            e,
            member.pk,
            "PURCHASE",
            action_id=action_id,
            campaign_id=e.campaign_id,
            points_earned=e.points_earned,
            points_unrecovered=0,
            group_points=e.group_points,
        )
        self.orders_in_unit.add((member.pk, e.order_id))
        if e.points_earned > 0:
            await self._credit(
                member,
                ActivityKind.EARN,
                e.occurred_at,
                action_id,
                e.points_earned,
                e.id,
                category=Category.PROMOTION.value if e.campaign_id else Category.REGULAR.value,
                order_id=e.order_id,
                store_id=e.store_id,
                source=e.source,
                reason=self._reason_for(action_id, e.campaign_id, None),
                campaign_id=e.campaign_id,
                group_points=e.group_points,
            )

    async def _on_points_redeemed(self, e: ev.PointsRedeemed) -> None:
        member = self._member(e.customer_id)
        self._check_action(e.action_id)
        await self._expire(member, e.occurred_at)
        if e.points > member.balance:
            raise EventError("points", f"{e.points} exceeds the balance of {member.balance}")
        await self._debit(
            member,
            ActivityKind.REDEEM,
            e.occurred_at,
            e.action_id,
            e.points,
            e.id,
            order_id=e.order_id,
            store_id=e.store_id,
            source=e.source,
        )

    async def _on_points_transferred(self, e: ev.PointsTransferred) -> None:
        sender = self._member(e.sender_id, "senderId")
        receiver = self._member(e.receiver_id, "receiverId")
        if sender is receiver:
            raise EventError("receiverId", "must differ from senderId")
        if not sender.row["opted_in"]:
            raise EventError("senderId", f"customer {e.sender_id!r} has not opted in")
        if not receiver.row["opted_in"]:
            raise EventError("receiverId", f"customer {e.receiver_id!r} has not opted in")
        t = table("points_activities")
        taken = e.transfer_id in self.transfers or (
            await self.session.scalar(
                select(t.c.id)
                .where(t.c.org_id == self.org.id, t.c.transfer_id == e.transfer_id)
                .limit(1)
            )
            is not None
        )
        if taken:
            raise EventError("transferId", f"transfer {e.transfer_id!r} is already recorded")
        self.transfers.add(e.transfer_id)
        at = e.occurred_at
        await self._expire(sender, at)
        await self._expire(receiver, at)
        if e.points > sender.balance:
            raise EventError(
                "points", f"{e.points} exceeds the sender's balance of {sender.balance}"
            )
        common = {"transfer_id": e.transfer_id, "program": e.program}
        await self._debit(
            sender,
            ActivityKind.TRANSFER_OUT,
            at,
            ACTION_TRANSFER,
            e.points,
            e.id,
            counterparty_id=receiver.pk,
            **common,
        )
        await self._credit(
            receiver,
            ActivityKind.TRANSFER_IN,
            at,
            ACTION_TRANSFER,
            e.points,
            e.id,
            counterparty_id=sender.pk,
            **common,
        )

    async def _on_transaction_returned(self, e: ev.TransactionReturned) -> None:
        member = self._member(e.customer_id)
        at = e.occurred_at
        if (member.pk, e.order_id) in self.orders_in_unit:
            await self._flush()  # the order's rows must be in the database to be read back
        order = await self._load_order(member, e.order_id)
        if not (order.purchase_amount or order.credits or order.redemptions):
            raise EventError(
                "orderId", f"unknown order {e.order_id!r} for customer {e.customer_id!r}"
            )
        if order.purchase_amount > 0:
            left = order.purchase_amount - order.returned_amount
            if e.amount > left + 0.005:
                raise EventError(
                    "amount",
                    f"{e.amount:.2f} exceeds what is left to return on the order ({left:.2f})",
                )
            before = order.returned_amount / order.purchase_amount
            after = min(1.0, (order.returned_amount + e.amount) / order.purchase_amount)
        else:
            if order.returned_amount > 0:
                raise EventError("orderId", f"order {e.order_id!r} is already returned")
            before, after = 0.0, 1.0
        await self._expire(member, at)
        common = {"order_id": e.order_id, "store_id": e.store_id, "source": e.source}
        # Redeemed points come back first, onto the lots they came from.
        for redemption in order.redemptions:
            give_back = proportional_delta(-redemption["points"], before, after)
            if give_back > 0:
                await self._restore(member, redemption, order, give_back, at, e.id, common)
        taken_back = 0
        unrecovered = 0
        group_taken_back: int | None = None
        for (action_id, campaign_id), (earned, group_earned) in order.credit_groups().items():
            due = proportional_delta(earned, before, after)
            if due <= 0:
                continue
            # What the member's group earned with the order goes back in the same proportion.
            group_due = proportional_delta(group_earned, before, after) if group_earned else None
            debit = min(due, member.balance)
            short = due - debit
            unrecovered += short
            if debit == 0:
                continue
            if action_id == ACTION_CAMPAIGN:
                name = self.catalog.campaigns.get(campaign_id or "", campaign_id or "")
                values = {"campaign_id": campaign_id, "reason": f"{name} - Returned"}
            else:
                values = {"reason": None}
            await self._debit(
                member,
                ActivityKind.REVERSAL,
                at,
                action_id if action_id == ACTION_CAMPAIGN else ACTION_RETURN,
                debit,
                e.id,
                points_unrecovered=short,
                group_points=-group_due if group_due else None,
                **common,
                **values,
            )
            taken_back += debit
            if group_due:
                group_taken_back = (group_taken_back or 0) - group_due
        # The sums the return records (and the API shows) must fit an Int. Under the lifetime
        # cap they do (the order's credits are part of it); a member's history imported before
        # that cap (migration 0008) may hold more.
        if unrecovered > INT_MAX or -(group_taken_back or 0) > INT_MAX:
            raise EventError(
                "orderId",
                f"the points to reverse on order {e.order_id!r} exceed {INT_MAX} (a GraphQL Int)",
            )
        await transactions.recorded(
            self.uow,
            e,
            member.pk,
            "RETURN",
            action_id=ACTION_RETURN,
            campaign_id=None,
            points_earned=-taken_back,
            points_unrecovered=unrecovered,
            group_points=group_taken_back,
        )
        self.orders_in_unit.add((member.pk, e.order_id))

    async def _restore(
        self,
        member: Member,
        redemption: dict[str, Any],
        order: _Order,
        amount: int,
        at: dt.datetime,
        event_id: str,
        common: dict[str, Any],
    ) -> None:
        member.credit(amount)
        row = await self._activity(
            member,
            ActivityKind.RESTORE,
            at,
            ACTION_RETURN,
            amount,
            event_id,
            redemption_id=redemption["id"],
            **common,
        )
        redemption["points_reversed"] += amount
        self.uow.changed("points_activities", redemption)
        left = amount
        lapsed: list[LotState] = []
        for part in order.consumptions.get(redemption["id"], []):
            if left == 0:
                break
            give = min(part["points"] - part["restored"], left)
            if give <= 0:
                continue
            left -= give
            part["restored"] += give
            self.uow.changed("lot_consumptions", part)
            lot = self.lots_by_id.get(part["lot_id"])
            if lot is None:
                lot = _lot_from_row(part["lot"])
                self.lots_by_id[lot.id] = lot
            lot.customer_id = member.pk
            was_open = lot.remaining > 0
            lot.remaining += give
            lot.dirty = True
            if not was_open:
                member.add_lot(lot)
            if lot.expires_at <= at and lot not in lapsed:
                lapsed.append(lot)
            # The credit shows when its points next expire: the soonest of the lots it refills.
            if row.get("expires_at") is None or lot.expires_at < row["expires_at"]:
                row["expires_at"] = lot.expires_at
        assert left == 0, "a redemption cannot give back more than it consumed"
        member.lots.sort(key=LotState.sort_key)
        if lapsed:
            # The part of a restored lot whose expiry has passed expires at once.
            await self._expire_lots(member, lapsed, at)

    async def _load_order(self, member: Member, order_id: str) -> _Order:
        s, org = self.session, self.org.id
        tx = table("transactions")
        rows = await s.execute(
            select(tx.c.type, tx.c.amount).where(
                tx.c.org_id == org, tx.c.customer_id == member.pk, tx.c.order_id == order_id
            )
        )
        order = _Order()
        for r in rows:
            if r.type == "PURCHASE":
                order.purchase_amount += r.amount
            else:
                order.returned_amount += r.amount
        pa = table("points_activities")
        rows = await s.execute(
            select(
                pa.c.id,
                pa.c.kind,
                pa.c.action_id,
                pa.c.campaign_id,
                pa.c.points,
                pa.c.points_reversed,
                pa.c.group_points,
            )
            .where(pa.c.org_id == org, pa.c.customer_id == member.pk, pa.c.order_id == order_id)
            .where(pa.c.kind.in_([ActivityKind.EARN.value, ActivityKind.REDEEM.value]))
            .order_by(pa.c.id)
        )
        for r in rows.mappings():
            if r["kind"] == ActivityKind.EARN.value:
                order.credits.append(dict(r))
            else:
                order.redemptions.append(dict(r))
        if order.redemptions:
            lc, lots = table("lot_consumptions"), table("lots")
            rows = await s.execute(
                select(lc, *[c.label("l__" + c.name) for c in lots.columns])
                .join(lots, lots.c.id == lc.c.lot_id)
                .where(
                    lc.c.org_id == org, lc.c.activity_id.in_([r["id"] for r in order.redemptions])
                )
                .order_by(lc.c.id)
            )
            for r in rows.mappings():
                part = {c.name: r[c.name] for c in lc.columns}
                part["lot"] = {c.name: r["l__" + c.name] for c in lots.columns}
                order.consumptions.setdefault(part["activity_id"], []).append(part)
        return order

    # other history

    async def _on_tier_changed(self, e: ev.TierChanged) -> None:
        member = self._member(e.customer_id)
        await self._expire(member, e.occurred_at)
        await self._tier(
            member, e.occurred_at, e.from_tier or member.row["tier"], e.to_tier, e.reason
        )

    async def _on_coupon_issued(self, e: ev.CouponIssued) -> None:
        member = self._member(e.customer_id)
        self.coupons.check_issue(e)
        await self._expire(member, e.occurred_at)
        await self.coupons.issued(e, member.pk)

    async def _on_coupon_redeemed(self, e: ev.CouponRedeemed) -> None:
        coupon = self.coupons.redeemable(e)
        await self._load_members_by_pk({coupon["customer_id"]})
        owner = self.by_pk[coupon["customer_id"]]
        while owner.row["merged_into_id"]:
            owner = self.by_pk[owner.row["merged_into_id"]]
        await self._expire(owner, e.occurred_at)
        self.coupons.redeemed(coupon, e)

    async def _on_communication_sent(self, e: ev.CommunicationSent) -> None:
        await self.messages.sent(e, self._member(e.customer_id).pk)

    async def _on_communication_statusChanged(self, e: ev.CommunicationStatusChanged) -> None:
        self.messages.status_changed(e)

    async def _on_event_tracked(self, e: ev.EventTracked) -> None:
        await behavioral_events.tracked(self.uow, e, self._member(e.customer_id).pk)

    async def _on_lead_created(self, e: ev.LeadEvent) -> None:
        await self.leads.created(e, self._member(e.customer_id).pk)

    async def _on_lead_updated(self, e: ev.LeadEvent) -> None:
        member = self._member(e.customer_id)
        self.leads.updated(e, member.pk, e.model_fields_set, self._survivor_pk)

    def _survivor_pk(self, pk: int) -> int | None:
        """The member a row of member `pk` belongs to after merges; None if not loaded."""
        owner = self.by_pk.get(pk)
        while owner is not None and owner.row["merged_into_id"]:
            owner = self.by_pk.get(owner.row["merged_into_id"])
        return None if owner is None else owner.pk

    async def _on_segment_changed(self, e: ev.SegmentChanged) -> None:
        await segments.changed(self.uow, e, self._member(e.customer_id).pk)


@dataclass
class _Order:
    """What a return needs to know of an order, read back from the database."""

    purchase_amount: float = 0.0
    returned_amount: float = 0.0
    credits: list[dict[str, Any]] = field(default_factory=list)
    redemptions: list[dict[str, Any]] = field(default_factory=list)
    consumptions: dict[int, list[dict[str, Any]]] = field(default_factory=dict)

    def credit_groups(self) -> dict[tuple[int, str | None], tuple[int, int | None]]:
        """Points earned on the order: per campaign for 1008, everything else as one group.

        Each group: (points, group points or None when none of its credits recorded any).
        """
        groups: dict[tuple[int, str | None], tuple[int, int | None]] = {}
        for credit in self.credits:
            if credit["action_id"] == ACTION_CAMPAIGN:
                key = (ACTION_CAMPAIGN, credit["campaign_id"])
            else:
                key = (ACTION_RETURN, None)
            points, group = groups.get(key, (0, None))
            if credit.get("group_points") is not None:
                group = (group or 0) + credit["group_points"]
            groups[key] = (points + credit["points"], group)
        return groups


def _same_event(known: tuple[str, str | None], kind: str, content: str) -> bool:
    applied_kind, applied_content = known
    if applied_content is None:
        # Applied before fingerprints were kept (migration 0006): only the type can differ.
        return applied_kind == kind
    return applied_content == content


@functools.cache
def _member_fields(kind: type[ev.Event]) -> tuple[str, ...]:
    """The fields of an event type that name a member."""
    names = ("customer_id", "sender_id", "receiver_id", "survivor_id", "merged_id")
    return tuple(n for n in names if n in kind.model_fields)


def _lot_from_row(r: Any) -> LotState:
    return LotState(
        id=r["id"],
        customer_id=r["customer_id"],
        activity_id=r["activity_id"],
        earned_at=r["earned_at"],
        expires_at=r["expires_at"],
        points=r["points"],
        remaining=r["remaining"],
        original_customer_id=r["original_customer_id"],
    )


def _parts(values: list[Any], size: int = 500) -> Iterable[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


async def _chunks(
    items: Iterable[tuple[int, Any]] | AsyncIterable[tuple[int, Any]], size: int
) -> AsyncIterable[list[tuple[int, Any]]]:
    chunk: list[tuple[int, Any]] = []
    if isinstance(items, AsyncIterable):
        async for item in items:
            chunk.append(item)
            if len(chunk) >= size:
                yield chunk
                chunk = []
    else:
        for item in items:
            chunk.append(item)
            if len(chunk) >= size:
                yield chunk
                chunk = []
    if chunk:
        yield chunk
