"""The import format: one JSON object per event, camelCase fields (contract, "Event import").

Each event type is a pydantic model; `parse_event` turns a raw object into one of them or an
`EventError` naming the field and the reason.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
    field_validator,
)
from pydantic.alias_generators import to_camel

NonEmpty = Annotated[str, Field(min_length=1, max_length=500)]
Id = Annotated[str, Field(min_length=1, max_length=200)]


def _blank_is_none(value: Any) -> Any:
    # Tills and CRMs send "" for "no order", "no store"…; stored as given, an empty order id
    # would be a different report row key than no order at all.
    return None if isinstance(value, str) and not value.strip() else value


OptionalId = Annotated[Id | None, BeforeValidator(_blank_is_none)]
OptionalText = Annotated[NonEmpty | None, BeforeValidator(_blank_is_none)]
PositiveInt = Annotated[StrictInt, Field(gt=0)]
Channel = Literal["SMS", "EMAIL", "WECHAT", "WEBENGAGE", "SURVEY"]
MessageStatus = Literal["SENT", "DELIVERED", "OPENED", "CLICKED", "FAILED", "BOUNCED"]
IdentifierType = Literal["MOBILE", "EMAIL", "EXTERNAL_ID"]
Category = Literal["REGULAR", "PROMOTION", "TRACKER"]


class Event(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )

    type: str
    id: Id
    occurred_at: AwareDatetime


def _positive_amount(value: float) -> float:
    if not math.isfinite(value) or value <= 0:
        raise ValueError("must be a positive amount")
    return value


class StoreUpserted(Event):
    type: Literal["store.upserted"]
    store_id: Id
    name: NonEmpty
    region: str | None = None
    store_type: str | None = None


class ActionDefined(Event):
    type: Literal["action.defined"]
    action_id: PositiveInt
    name: NonEmpty


class CampaignDefined(Event):
    type: Literal["campaign.defined"]
    campaign_id: Id
    name: NonEmpty


class ActionSeriesDefined(Event):
    type: Literal["actionSeries.defined"]
    action_series_id: Id
    name: NonEmpty


class SurveySectionIn(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")
    section_id: Id
    name: NonEmpty


class SurveyDefined(Event):
    type: Literal["survey.defined"]
    survey_id: Id
    name: NonEmpty
    sections: list[SurveySectionIn] = []


class CustomerEnrolled(Event):
    type: Literal["customer.enrolled"]
    customer_id: Id
    name: NonEmpty
    email: str | None = None
    mobile: str | None = None
    opted_in: StrictBool = False
    tier: str | None = None
    user_role: str | None = None
    group_id: OptionalId = None

    @field_validator("email")
    @classmethod
    def _email(cls, v: str | None) -> str | None:
        if v is not None and ("@" not in v or any(c.isspace() for c in v)):
            raise ValueError("is not an email address")
        return v


class CustomerUpdated(Event):
    type: Literal["customer.updated"]
    customer_id: Id
    name: NonEmpty | None = None
    email: str | None = None
    mobile: str | None = None
    opted_in: StrictBool | None = None
    tier: str | None = None
    user_role: str | None = None
    group_id: OptionalId = None

    _email = field_validator("email")(CustomerEnrolled._email.__func__)  # type: ignore[attr-defined]


class IdentifierChanged(Event):
    type: Literal["customer.identifierChanged"]
    customer_id: Id
    identifier_type: IdentifierType
    value: NonEmpty
    source: OptionalText = None
    account: str | None = None


class CustomerMerged(Event):
    type: Literal["customer.merged"]
    survivor_id: Id
    merged_id: Id
    source: OptionalText = None
    account: str | None = None


class PointsEarned(Event):
    type: Literal["points.earned"]
    customer_id: Id
    points: PositiveInt
    action_id: StrictInt
    order_id: OptionalId = None
    custom_id: OptionalId = None
    store_id: OptionalId = None
    source: OptionalText = None
    reason: str | None = None
    campaign_id: OptionalId = None
    action_series_id: OptionalId = None
    reward_name: str | None = None
    survey_id: OptionalId = None
    section_id: OptionalId = None
    expires_at: AwareDatetime | None = None
    category: Category | None = None
    tracker_value: float | None = None
    group_points: StrictInt | None = None


class TransactionPurchased(Event):
    type: Literal["transaction.purchased"]
    customer_id: Id
    order_id: Id
    amount: float
    store_id: OptionalId = None
    source: OptionalText = None
    points_earned: Annotated[StrictInt, Field(ge=0)] = 0
    action_id: StrictInt | None = None
    campaign_id: OptionalId = None
    group_points: StrictInt | None = None

    _amount = field_validator("amount")(_positive_amount)


class TransactionReturned(Event):
    type: Literal["transaction.returned"]
    customer_id: Id
    order_id: Id
    amount: float
    store_id: OptionalId = None
    source: OptionalText = None

    _amount = field_validator("amount")(_positive_amount)


class PointsRedeemed(Event):
    type: Literal["points.redeemed"]
    customer_id: Id
    points: PositiveInt
    action_id: StrictInt
    order_id: OptionalId = None
    store_id: OptionalId = None
    source: OptionalText = None


class PointsTransferred(Event):
    type: Literal["points.transferred"]
    transfer_id: Id
    sender_id: Id
    receiver_id: Id
    points: PositiveInt
    program: str | None = None


class TierChanged(Event):
    type: Literal["tier.changed"]
    customer_id: Id
    from_tier: str | None = None
    to_tier: NonEmpty
    reason: str | None = None


class CouponIssued(Event):
    type: Literal["coupon.issued"]
    coupon_id: Id
    code: NonEmpty
    customer_id: Id
    series: str | None = None
    expires_at: AwareDatetime | None = None


class CouponRedeemed(Event):
    type: Literal["coupon.redeemed"]
    coupon_id: Id
    order_id: OptionalId = None
    store_id: OptionalId = None


class CommunicationSent(Event):
    type: Literal["communication.sent"]
    message_id: Id
    customer_id: Id
    channel: Channel
    subject: str | None = None
    preview: str | None = None
    status: MessageStatus = "SENT"
    account: str | None = None


class CommunicationStatusChanged(Event):
    type: Literal["communication.statusChanged"]
    message_id: Id
    status: MessageStatus


class EventTracked(Event):
    type: Literal["event.tracked"]
    customer_id: Id
    tracking_id: Id
    event: NonEmpty
    source: OptionalText = None
    account_id: OptionalId = None
    till_code: str | None = None
    attributes: dict[str, Any] | None = None


class LeadEvent(Event):
    type: Literal["lead.created", "lead.updated"]
    lead_id: Id
    customer_id: Id
    lead_type: str | None = None
    lead_for: str | None = None
    status: NonEmpty
    sub_status: str | None = None
    last_follow_up_at: AwareDatetime | None = None
    next_follow_up_at: AwareDatetime | None = None
    extended_fields: dict[str, Any] | None = None


class SegmentChanged(Event):
    type: Literal["segment.changed"]
    customer_id: Id
    segment: NonEmpty
    from_partition: str | None = None
    to_partition: str | None = None


EVENT_TYPES: dict[str, type[Event]] = {
    "store.upserted": StoreUpserted,
    "action.defined": ActionDefined,
    "campaign.defined": CampaignDefined,
    "actionSeries.defined": ActionSeriesDefined,
    "survey.defined": SurveyDefined,
    "customer.enrolled": CustomerEnrolled,
    "customer.updated": CustomerUpdated,
    "customer.identifierChanged": IdentifierChanged,
    "customer.merged": CustomerMerged,
    "points.earned": PointsEarned,
    "transaction.purchased": TransactionPurchased,
    "transaction.returned": TransactionReturned,
    "points.redeemed": PointsRedeemed,
    "points.transferred": PointsTransferred,
    "tier.changed": TierChanged,
    "coupon.issued": CouponIssued,
    "coupon.redeemed": CouponRedeemed,
    "communication.sent": CommunicationSent,
    "communication.statusChanged": CommunicationStatusChanged,
    "event.tracked": EventTracked,
    "lead.created": LeadEvent,
    "lead.updated": LeadEvent,
    "segment.changed": SegmentChanged,
}


@dataclass(frozen=True)
class EventError(Exception):
    """Why one event cannot apply: the camelCase field at fault and the reason."""

    field: str
    message: str
    event_id: OptionalId = None

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


def _describe(error: Any) -> tuple[str, str]:
    loc = ".".join(str(part) for part in error["loc"]) or "event"
    kind = error["type"]
    if kind == "missing":
        return loc, "is required"
    if kind == "extra_forbidden":
        return loc, "is not a field of this event type"
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        return loc, f"must be one of {expected}"
    if kind == "timezone_aware":
        return loc, "must be an ISO 8601 date-time with an offset"
    message = str(error["msg"])
    if message.startswith("Value error, "):
        message = message.removeprefix("Value error, ")
    return loc, message[:1].lower() + message[1:]


def parse_event(raw: Any) -> Event:
    reason = getattr(raw, "reason", None)
    if reason is not None:
        raise EventError("line", f"is not valid JSON ({reason})")
    if not isinstance(raw, dict):
        raise EventError("event", "must be a JSON object")
    event_id = raw.get("id") if isinstance(raw.get("id"), str) else None
    kind = raw.get("type")
    if kind is None:
        raise EventError("type", "is required", event_id)
    model = EVENT_TYPES.get(kind) if isinstance(kind, str) else None
    if model is None:
        raise EventError("type", f"unknown event type {kind!r}", event_id)
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        field, message = _describe(exc.errors()[0])
        raise EventError(field, message, event_id) from None


def utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC)
