"""SQL that builds JSON, once per dialect: what the planner (reads/planner.py) composes.

PostgreSQL builds `json` (not `jsonb`, which would reorder an object's keys: GraphQL answers
keep the selection's order); SQLite builds its JSON text with json_object/json_group_array.
A JSON value that crosses a subquery loses SQLite's JSON subtype (it would be embedded as a
string), so every embedded subquery is wrapped in json(). Local times, cursors and global ids
match the Python executor's output byte for byte: SQLite calls member360.sqlfunctions, and
PostgreSQL spells the same rules in SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Date,
    String,
    Text,
    and_,
    case,
    cast,
    func,
    funcfilter,
    literal_column,
    null,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by

# PostgreSQL functions take at most 100 arguments: 50 keys an object.
MAX_KEYS = 50


def key(name: str) -> ColumnElement[Any]:
    """An object key: a GraphQL response key (a Name: letters, digits, underscores)."""
    if not name.replace("_", "a").isalnum() or not name.isascii():
        raise ValueError(f"not a GraphQL name: {name!r}")
    return literal_column(f"'{name}'", String())


class JsonSql:
    """The JSON-building SQL of one dialect."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.postgres = dialect == "postgresql"

    def obj(self, pairs: Sequence[tuple[str, ColumnElement[Any]]]) -> ColumnElement[Any]:
        if len(pairs) > MAX_KEYS:
            raise OverflowError(f"an object of {len(pairs)} keys")
        arguments: list[Any] = []
        for name, value in pairs:
            arguments += [key(name), value]
        if self.postgres:
            return func.json_build_object(*arguments)
        return func.json_object(*arguments)

    def embed(self, subquery: Any) -> ColumnElement[Any]:
        """A JSON value a scalar subquery returns, as a value of the enclosing object."""
        value = subquery.scalar_subquery()
        return value if self.postgres else func.json(value)

    def array(
        self,
        element: ColumnElement[Any],
        order_by: Sequence[ColumnElement[Any]],
        where: ColumnElement[bool] | None = None,
    ) -> ColumnElement[Any]:
        """The rows' elements as a JSON array (`[]` for none), in order, of the rows `where`
        holds. SQLite's json_group_array takes the rows' order (its input is ordered)."""
        if self.postgres:
            aggregated: Any = func.json_agg(aggregate_order_by(element, *order_by))
            if where is not None:
                aggregated = funcfilter(aggregated, where)
            return func.coalesce(aggregated, literal_column("'[]'::json"))
        grouped: Any = func.json_group_array(element)
        return grouped if where is None else funcfilter(grouped, where)

    def local_day(
        self, instant: ColumnElement[Any], zone: ColumnElement[Any]
    ) -> ColumnElement[Any]:
        """The instant's date in the zone ("2026-01-31", as a GraphQL Date is written)."""
        if self.postgres:
            return cast(instant.op("AT TIME ZONE")(zone), Date())
        return func.substr(func.m360_local_time(instant, zone), 1, 10)

    def boolean(self, value: ColumnElement[Any]) -> ColumnElement[Any]:
        if self.postgres:
            return value
        # SQLite keeps booleans as 0/1; json('true') carries the JSON subtype.
        return case(
            (value.is_(None), null()),
            (value == 1, func.json(literal_column("'true'"))),
            else_=func.json(literal_column("'false'")),
        )

    def json_document(self, value: ColumnElement[Any]) -> ColumnElement[Any]:
        """A stored JSON column (JSONB on PostgreSQL, JSON text on SQLite), embedded."""
        return value if self.postgres else func.json(value)

    def json_literal(self, value: bool) -> ColumnElement[Any]:
        text = "true" if value else "false"
        return literal_column(f"'{text}'::json") if self.postgres else func.json(text)

    def _iso(self, local: ColumnElement[Any]) -> ColumnElement[Any]:
        """A timestamp without zone as isoformat() writes it (microseconds only if any)."""
        seconds = func.to_char(local, literal_column("'YYYY-MM-DD\"T\"HH24:MI:SS'"))
        micro = func.to_char(local, literal_column("'US'"))
        return seconds.op("||")(
            case(
                (micro == "000000", literal_column("''")),
                else_=literal_column("'.'").op("||")(micro),
            )
        )

    def local_time(
        self, instant: ColumnElement[Any], zone: ColumnElement[Any]
    ) -> ColumnElement[Any]:
        """An instant in the organization's zone, as a DateTime leaves graphql-core."""
        if not self.postgres:
            return func.m360_local_time(instant, zone)
        local = instant.op("AT TIME ZONE")(zone)
        utc = instant.op("AT TIME ZONE")(literal_column("'UTC'"))
        offset = cast(func.extract("epoch", local - utc), BigInteger())
        magnitude = func.abs(offset)
        hours = func.lpad(cast(magnitude // 3600, Text()), 2, "0")
        minutes = func.lpad(cast((magnitude % 3600) // 60, Text()), 2, "0")
        sign = case((offset < 0, literal_column("'-'")), else_=literal_column("'+'"))
        text = self._iso(local).op("||")(sign).op("||")(hours).op("||")(":").op("||")(minutes)
        return case((instant.is_(None), null()), else_=text)

    def _url_base64(self, text: ColumnElement[Any]) -> ColumnElement[Any]:
        encoded = func.encode(func.convert_to(text, "UTF8"), "base64")
        # PostgreSQL breaks base64 lines at 76 characters and uses + and /.
        return func.translate(encoded, literal_column("'+/' || chr(10)"), "-_")

    def time_cursor(
        self, instant: ColumnElement[Any], row_id: ColumnElement[Any]
    ) -> ColumnElement[Any]:
        """relay.encode_cursor(instant in UTC, row id)."""
        if not self.postgres:
            return func.m360_time_cursor(instant, row_id)
        utc = instant.op("AT TIME ZONE")(literal_column("'UTC'"))
        text = self._iso(utc).op("||")("+00:00|").op("||")(cast(row_id, Text()))
        return self._url_base64(text)

    def text_cursor(
        self, value: ColumnElement[Any], row_id: ColumnElement[Any]
    ) -> ColumnElement[Any]:
        """relay.encode_cursor(text, row id)."""
        text = value.op("||")(literal_column("'|'")).op("||")(cast(row_id, Text()))
        return func.m360_base64(text) if not self.postgres else self._url_base64(text)

    def global_id(self, kind: str, row_id: ColumnElement[Any]) -> ColumnElement[Any]:
        text = literal_column(f"'{kind}:'", String()).op("||")(cast(row_id, Text()))
        if not self.postgres:
            return func.m360_base64(text)
        return self._url_base64(text)

    def as_text(self, document: ColumnElement[Any]) -> ColumnElement[Any]:
        """The statement's one column: the JSON as text, so no driver decodes it."""
        return cast(document, Text()) if self.postgres else document


def all_of(conditions: Sequence[ColumnElement[bool]]) -> ColumnElement[bool]:
    return and_(*conditions) if conditions else literal_column("1 = 1")
