"""The import format: one JSON object per event, camelCase fields (contract, "Event import").

Each event type is a pydantic model; `parse_event` turns a raw object into one of them or an
`EventError` naming the field and the reason. Values are taken as JSON types them: numbers
must be JSON numbers, texts strings, timestamps ISO 8601 strings with an offset; every limit
comes from `member360.ingest.limits`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    ValidationError,
    field_validator,
)
from pydantic.alias_generators import to_camel

from member360.ingest import limits

# ------------------------------------------------------------------ texts

# Ids and labels are single-line: no C0 control character at all. Free texts (names, reason,
# subject, preview) may hold tab, LF and CR. Lone surrogates (JSON "\ud800") are not text
# either: neither database can encode them.
_SINGLE_LINE_FORBIDDEN = re.compile("[\x00-\x1f\ud800-\udfff]")
_FREE_TEXT_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


class FieldProblem(ValueError):
    """A value error somewhere inside a field: `path` continues the field's name (JSON keys)."""

    def __init__(self, message: str, path: tuple[str | int, ...] = ()) -> None:
        super().__init__(message)
        self.path = path


def character_problem(value: str, *, free_text: bool) -> str | None:
    """Why `value` cannot be stored as text (or None when it can)."""
    found = (_FREE_TEXT_FORBIDDEN if free_text else _SINGLE_LINE_FORBIDDEN).search(value)
    if found is None:
        return None
    char, where = found.group(), found.start() + 1
    if "\ud800" <= char <= "\udfff":
        return f"is not valid Unicode (a lone surrogate U+{ord(char):04X} at character {where})"
    allowed = "" if not free_text else " other than tab, LF and CR"
    return f"must not contain control characters{allowed} (U+{ord(char):04X} at character {where})"


def _single_line(value: str) -> str:
    problem = character_problem(value, free_text=False)
    if problem:
        raise ValueError(problem)
    return value


def _free_text(value: str) -> str:
    problem = character_problem(value, free_text=True)
    if problem:
        raise ValueError(problem)
    return value


def _blank_is_none(value: Any) -> Any:
    # Tills and CRMs send "" for "no order", "no store"…; stored as given, an empty order id
    # would be a different report row key than no order at all.
    return None if isinstance(value, str) and not value.strip() else value


# "x-text" tells the two kinds apart in the JSON schema (docs/events.md is checked against it).
def SingleLine(max_length: int, min_length: int = 0) -> Any:
    limit = Field(
        min_length=min_length, max_length=max_length, json_schema_extra={"x-text": "single-line"}
    )
    return Annotated[str, limit, AfterValidator(_single_line)]


def FreeText(max_length: int, min_length: int = 0) -> Any:
    limit = Field(
        min_length=min_length, max_length=max_length, json_schema_extra={"x-text": "free"}
    )
    return Annotated[str, limit, AfterValidator(_free_text)]


Id = SingleLine(limits.ID_LENGTH, min_length=1)
OptionalId = Annotated[Id | None, BeforeValidator(_blank_is_none)]
Identifier = SingleLine(limits.IDENTIFIER_LENGTH)
Source = SingleLine(limits.SOURCE_LENGTH)
OptionalSource = Annotated[
    SingleLine(limits.SOURCE_LENGTH, min_length=1) | None, BeforeValidator(_blank_is_none)
]
Label = SingleLine(limits.LABEL_LENGTH)
RequiredLabel = SingleLine(limits.LABEL_LENGTH, min_length=1)
Name = FreeText(limits.NAME_LENGTH, min_length=1)
Reason = FreeText(limits.REASON_LENGTH)

# ------------------------------------------------------------------ numbers


def _positive_amount(value: float) -> float:
    if value <= 0:
        raise ValueError("must be a positive amount")
    return value


# StrictInt refuses strings, booleans and floats (5.0 too): an integer is a JSON integer.
PositiveInt = Annotated[StrictInt, Field(gt=0, le=limits.INT_MAX)]
NonNegativeInt = Annotated[StrictInt, Field(ge=0, le=limits.INT_MAX)]
ActionId = PositiveInt
# StrictFloat takes JSON integers and decimals, not strings or booleans.
Amount = Annotated[
    StrictFloat,
    Field(allow_inf_nan=False, le=limits.INT_MAX, json_schema_extra={"exclusiveMinimum": 0}),
    AfterValidator(_positive_amount),
]
Number = Annotated[StrictFloat, Field(allow_inf_nan=False, ge=limits.INT_MIN, le=limits.INT_MAX)]

# ------------------------------------------------------------------ timestamps

_ISO_8601 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?([Zz]|[+-]\d{2}:?\d{2})\Z"
)
_TIMESTAMP_FORMAT = (
    "must be an ISO 8601 date-time string with an offset, e.g. 2026-01-15T10:30:00+05:30"
)


def _iso_string(value: Any) -> Any:
    # pydantic alone would also take 1767225600 and "1767225600" as Unix times.
    if not isinstance(value, str) or not _ISO_8601.match(value):
        raise ValueError(_TIMESTAMP_FORMAT)
    return value


def _in_range(value: dt.datetime) -> dt.datetime:
    low, high = limits.TIMESTAMP_MIN, limits.TIMESTAMP_MAX
    # The year test first: converting year 1 or 9999 to UTC can leave the calendar.
    if not low.year <= value.year < high.year or not low <= value < high:
        raise ValueError(f"must lie between {low:%Y-%m-%d} and {high:%Y-%m-%d} (UTC)")
    # Stored in UTC anyway; one offset for one instant also makes equal events compare equal.
    return value.astimezone(dt.UTC)


Timestamp = Annotated[AwareDatetime, BeforeValidator(_iso_string), AfterValidator(_in_range)]

# ------------------------------------------------------------------ JSON objects


def _check_json(value: Any, path: tuple[str | int, ...], depth: int, budget: list[int]) -> None:
    """Walks a JSON value whose enclosing object or list is at level `depth`."""
    if isinstance(value, dict | list) and depth > limits.JSON_OBJECT_DEPTH:
        raise FieldProblem(f"nests deeper than {limits.JSON_OBJECT_DEPTH} levels", path)
    if isinstance(value, str):
        budget[0] -= len(value)
        problem = character_problem(value, free_text=True)
        if problem:
            raise FieldProblem(problem, path)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise FieldProblem("must be a finite number", path)
    elif isinstance(value, dict):
        for key, item in value.items():
            problem = character_problem(key, free_text=False)
            if problem:
                raise FieldProblem(f"key {problem}", (*path, key))
            budget[0] -= len(key)
            _check_json(item, (*path, key), depth + 1, budget)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_json(item, (*path, index), depth + 1, budget)
    # None, booleans and integers are JSON as they are.
    if budget[0] < 0:
        raise FieldProblem(f"is larger than {limits.JSON_OBJECT_CHARS:,} characters of JSON")


def _json_object(value: dict[str, Any]) -> dict[str, Any]:
    # Strings and keys are counted while walking (so a huge one is refused early); the exact
    # size is the object's compact JSON text.
    _check_json(value, (), 1, [limits.JSON_OBJECT_CHARS])
    size = len(json.dumps(value, ensure_ascii=False, separators=(",", ":")))
    if size > limits.JSON_OBJECT_CHARS:
        raise FieldProblem(f"is larger than {limits.JSON_OBJECT_CHARS:,} characters of JSON")
    return value


JsonObject = Annotated[dict[str, Any], AfterValidator(_json_object)]

# ------------------------------------------------------------------ events

Channel = Literal["SMS", "EMAIL", "WECHAT", "WEBENGAGE", "SURVEY"]
MessageStatus = Literal["SENT", "DELIVERED", "OPENED", "CLICKED", "FAILED", "BOUNCED"]
IdentifierType = Literal["MOBILE", "EMAIL", "EXTERNAL_ID"]
Category = Literal["REGULAR", "PROMOTION", "TRACKER"]


class Event(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )
    # Events that change only the fields they give: for them `"x": null` (clear x) and no `x`
    # (keep x) differ, which their fingerprint must tell apart.
    partial: ClassVar[bool] = False

    type: str
    id: Id
    occurred_at: Timestamp


class StoreUpserted(Event):
    type: Literal["store.upserted"]
    store_id: Id
    name: Name
    region: Label | None = None
    store_type: Label | None = None


class ActionDefined(Event):
    type: Literal["action.defined"]
    action_id: ActionId
    name: Name


class CampaignDefined(Event):
    type: Literal["campaign.defined"]
    campaign_id: Id
    name: Name


class ActionSeriesDefined(Event):
    type: Literal["actionSeries.defined"]
    action_series_id: Id
    name: Name


class SurveySectionIn(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")
    section_id: Id
    name: Name


class SurveyDefined(Event):
    type: Literal["survey.defined"]
    survey_id: Id
    name: Name
    sections: Annotated[list[SurveySectionIn], Field(max_length=limits.SECTIONS_PER_SURVEY)] = []


def _email(value: str | None) -> str | None:
    if value is not None and ("@" not in value or any(c.isspace() for c in value)):
        raise ValueError("is not an email address")
    return value


class CustomerEnrolled(Event):
    type: Literal["customer.enrolled"]
    customer_id: Id
    name: Name
    email: Identifier | None = None
    mobile: Identifier | None = None
    opted_in: StrictBool = False
    tier: Label | None = None
    user_role: Label | None = None
    group_id: OptionalId = None

    _email = field_validator("email")(_email)


class CustomerUpdated(Event):
    partial: ClassVar[bool] = True

    type: Literal["customer.updated"]
    customer_id: Id
    name: Name | None = None
    email: Identifier | None = None
    mobile: Identifier | None = None
    opted_in: StrictBool | None = None
    tier: Label | None = None
    user_role: Label | None = None
    group_id: OptionalId = None

    _email = field_validator("email")(_email)

    @field_validator("name", "opted_in", mode="before")
    @classmethod
    def _kept_not_cleared(cls, value: Any) -> Any:
        # A member always has a name and an opt-in; leaving the field out keeps them.
        if value is None:
            raise ValueError("cannot be cleared (null); leave the field out to keep it")
        return value


class IdentifierChanged(Event):
    type: Literal["customer.identifierChanged"]
    customer_id: Id
    identifier_type: IdentifierType
    value: SingleLine(limits.IDENTIFIER_LENGTH, min_length=1)  # type: ignore[valid-type]
    source: OptionalSource = None
    account: Source | None = None


class CustomerMerged(Event):
    type: Literal["customer.merged"]
    survivor_id: Id
    merged_id: Id
    source: OptionalSource = None
    account: Source | None = None


class PointsEarned(Event):
    type: Literal["points.earned"]
    customer_id: Id
    points: PositiveInt
    action_id: ActionId
    order_id: OptionalId = None
    custom_id: OptionalId = None
    store_id: OptionalId = None
    source: OptionalSource = None
    reason: Reason | None = None
    campaign_id: OptionalId = None
    action_series_id: OptionalId = None
    reward_name: FreeText(limits.REWARD_NAME_LENGTH) | None = None  # type: ignore[valid-type]
    survey_id: OptionalId = None
    section_id: OptionalId = None
    expires_at: Timestamp | None = None
    category: Category | None = None
    tracker_value: Number | None = None
    group_points: NonNegativeInt | None = None


class TransactionPurchased(Event):
    type: Literal["transaction.purchased"]
    customer_id: Id
    order_id: Id
    amount: Amount
    store_id: OptionalId = None
    source: OptionalSource = None
    points_earned: NonNegativeInt = 0
    action_id: ActionId | None = None
    campaign_id: OptionalId = None
    group_points: NonNegativeInt | None = None


class TransactionReturned(Event):
    type: Literal["transaction.returned"]
    customer_id: Id
    order_id: Id
    amount: Amount
    store_id: OptionalId = None
    source: OptionalSource = None


class PointsRedeemed(Event):
    type: Literal["points.redeemed"]
    customer_id: Id
    points: PositiveInt
    action_id: ActionId
    order_id: OptionalId = None
    store_id: OptionalId = None
    source: OptionalSource = None


class PointsTransferred(Event):
    type: Literal["points.transferred"]
    transfer_id: Id
    sender_id: Id
    receiver_id: Id
    points: PositiveInt
    program: Label | None = None


class TierChanged(Event):
    type: Literal["tier.changed"]
    customer_id: Id
    from_tier: Label | None = None
    to_tier: RequiredLabel
    reason: Reason | None = None


class CouponIssued(Event):
    type: Literal["coupon.issued"]
    coupon_id: Id
    code: Id
    customer_id: Id
    series: Label | None = None
    expires_at: Timestamp | None = None


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
    subject: FreeText(limits.SUBJECT_LENGTH) | None = None  # type: ignore[valid-type]
    preview: FreeText(limits.PREVIEW_LENGTH) | None = None  # type: ignore[valid-type]
    status: MessageStatus = "SENT"
    account: Source | None = None


class CommunicationStatusChanged(Event):
    type: Literal["communication.statusChanged"]
    message_id: Id
    status: MessageStatus


class EventTracked(Event):
    type: Literal["event.tracked"]
    customer_id: Id
    tracking_id: Id
    event: RequiredLabel
    source: OptionalSource = None
    account_id: OptionalId = None
    till_code: OptionalId = None
    attributes: JsonObject | None = None


class LeadEvent(Event):
    partial: ClassVar[bool] = True  # lead.updated changes only what it gives

    type: Literal["lead.created", "lead.updated"]
    lead_id: Id
    customer_id: Id
    lead_type: Label | None = None
    lead_for: Label | None = None
    status: RequiredLabel
    sub_status: Label | None = None
    last_follow_up_at: Timestamp | None = None
    next_follow_up_at: Timestamp | None = None
    extended_fields: JsonObject | None = None


class SegmentChanged(Event):
    type: Literal["segment.changed"]
    customer_id: Id
    segment: RequiredLabel
    from_partition: Label | None = None
    to_partition: Label | None = None


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

# ------------------------------------------------------------------ parsing


@dataclass(frozen=True)
class EventError(Exception):
    """Why one event cannot apply: the camelCase field at fault and the reason."""

    field: str
    message: str
    event_id: str | None = None

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


@dataclass(frozen=True)
class Unreadable:
    """A line of a file that holds no event (not UTF-8, not JSON…): reported as its error."""

    field: str
    message: str


_PLAIN_KEY = re.compile(r"[A-Za-z0-9_.\-]{1,64}\Z")


def _name_part(part: str | int) -> str:
    # Field names come from the caller (an unknown key, a JSON object's key): a huge or
    # control-laden one is quoted and cut rather than echoed as sent.
    text = str(part)
    if _PLAIN_KEY.match(text):
        return text
    quoted = json.dumps(text)
    return quoted if len(quoted) <= 66 else quoted[:62] + '…"'


def _field_name(loc: tuple[str | int, ...]) -> str:
    return ".".join(_name_part(part) for part in loc) or "event"


_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "is not a field of this event type",
    "int_type": "must be an integer (a JSON number without a fraction)",
    "float_type": "must be a number (a JSON number, not a string)",
    "finite_number": "must be a finite number",
    "bool_type": "must be true or false",
    "string_type": "must be a string",
    "string_unicode": "is not valid Unicode (it holds a lone surrogate such as \\ud800)",
    "dict_type": "must be a JSON object",
    "list_type": "must be a list",
    "model_type": "must be a JSON object",
    "timezone_aware": "must be an ISO 8601 date-time with an offset",
}


def _describe(error: Any) -> tuple[str, str]:
    loc = tuple(error["loc"])
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind in _MESSAGES:
        return _field_name(loc), _MESSAGES[kind]
    if kind == "literal_error":
        return _field_name(loc), f"must be one of {ctx.get('expected', '')}"
    if kind == "greater_than":
        return _field_name(loc), f"must be greater than {ctx['gt']}"
    if kind == "greater_than_equal":
        bound = int(ctx["ge"])
        note = " (the smallest GraphQL Int)" if bound == limits.INT_MIN else ""
        return _field_name(loc), f"must be at least {bound}{note}"
    if kind == "less_than_equal":
        bound = int(ctx["le"])
        note = " (the largest GraphQL Int)" if bound == limits.INT_MAX else ""
        return _field_name(loc), f"must be at most {bound}{note}"
    if kind == "string_too_short":
        return _field_name(loc), "must not be empty"
    if kind == "string_too_long":
        return _field_name(loc), f"must be at most {ctx['max_length']:,} characters long"
    if kind == "too_long":
        return _field_name(loc), f"must have at most {ctx['max_length']:,} entries"
    if kind.startswith("datetime"):
        return _field_name(loc), _TIMESTAMP_FORMAT
    cause = ctx.get("error")
    if isinstance(cause, FieldProblem):
        return _field_name(loc + cause.path), str(cause)
    message = str(error["msg"]).removeprefix("Value error, ")
    return _field_name(loc), message[:1].lower() + message[1:]


def _reported_id(raw: dict[str, Any]) -> str | None:
    """The event's id as errors echo it back: only an id that is one."""
    value = raw.get("id")
    if isinstance(value, str) and 0 < len(value) <= limits.ID_LENGTH:
        if character_problem(value, free_text=False) is None:
            return value
    return None


def parse_event(raw: Any) -> Event:
    if isinstance(raw, Unreadable):
        raise EventError(raw.field, raw.message)
    if not isinstance(raw, dict):
        raise EventError("event", "must be a JSON object")
    event_id = _reported_id(raw)
    kind = raw.get("type")
    if kind is None:
        raise EventError("type", "is required", event_id)
    model = EVENT_TYPES.get(kind) if isinstance(kind, str) else None
    if model is None:
        shown = _name_part(kind) if isinstance(kind, str) else json.dumps(kind)[:40]
        raise EventError("type", f"unknown event type {shown}", event_id)
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        field, message = _describe(exc.errors()[0])
        raise EventError(field, message, event_id) from None


def fingerprint(event: Event) -> str:
    """What "the same event" means for an id used again: equal fields after parsing.

    Timestamps compare as instants, "" as absent, 250 as 250.0; a field left at its default
    counts as left out, except in partial updates, where giving a field is itself content.
    """
    if event.partial:
        content = event.model_dump(mode="json", by_alias=True, exclude_unset=True)
    else:
        content = event.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    content["type"], content["id"] = event.type, event.id
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC)
