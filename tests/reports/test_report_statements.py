"""The report's statements are cached per shape and take every value as a parameter: each
statement needs exactly the parameters `plan()` gives, so no value of one request can stay
behind in the statement another request runs."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import StatementError

from member360.db import Database
from member360.orgs.service import OrgInfo
from member360.reports.interactions import (
    ROW_COLUMNS,
    CatalogMatches,
    ReportFilter,
    RowKey,
    Scope,
    count_query,
    page_query,
    points_query,
)

DAY = dt.date(2026, 5, 1)
TEXTS = {
    "name": "rao",
    "email": "a@b",
    "order_id": "O-1",
    "action_id": 100,
    "store_id": "S1",
    "coupon": "Free",
    "source": "POS",
    "content_text": "bandra",
}
CURSORS = [
    None,
    RowKey(DAY, 7, 100, None, None),
    RowKey(DAY, 7, 100, "O-1", None),
    RowKey(DAY, 7, 100, None, "K"),
    RowKey(DAY + dt.timedelta(days=40), 7, 100, "O-1", "K"),  # past the range
]
MATCHES = [
    CatalogMatches(),
    CatalogMatches(
        action_ids=[100, 201], store_ids=["S1"], survey_ids=["V"], sections=[("V", "X")]
    ),
]


# The only values written into a statement: constants of the code, the same for every request.
CONSTANTS = {0, 1, "TRANSFER_IN", "TRANSFER_OUT"}


def bind_names(query: object, dialect: object) -> set[str]:
    """The statement's request parameters; asserts every other bound value is a constant."""
    compiled = query.statement.compile(dialect=dialect)  # type: ignore[attr-defined]
    fixed = {b.value for b in compiled.binds.values() if not b.required}
    assert fixed <= CONSTANTS, fixed
    return {name for name, b in compiled.binds.items() if b.required}


@pytest.mark.parametrize("dialect_name", ["postgresql", "sqlite"])
def test_every_shape_needs_exactly_the_planned_parameters(dialect_name: str) -> None:
    dialect = postgresql.asyncpg.dialect() if dialect_name == "postgresql" else sqlite.dialect()
    names = list(TEXTS)
    combos = [()] + [(n,) for n in names] + [tuple(names)]
    for combo, matches, pii in itertools.product(combos, MATCHES, (True, False)):
        f = ReportFilter(DAY, DAY + dt.timedelta(days=30), **{n: TEXTS[n] for n in combo})
        scope = Scope(1, dialect_name, pii, matches)
        queries = [points_query(f, scope), count_query(f, scope)]
        queries += [page_query(f, scope, after=after, limit=51) for after in CURSORS]
        queries.append(page_query(f, scope))
        for query in queries:
            assert bind_names(query, dialect) == set(query.params), (combo, matches)


def test_the_page_has_the_columns_rows_are_read_by() -> None:
    f = ReportFilter(DAY, DAY)
    query = page_query(f, Scope(1, "sqlite", True), limit=1)
    assert tuple(c.name for c in query.statement.selected_columns) == ROW_COLUMNS


async def test_a_missing_parameter_is_an_error_not_a_stale_value(
    db: Database, org: OrgInfo
) -> None:
    query = page_query(ReportFilter(DAY, DAY), Scope(org.id, db.dialect, True), limit=5)
    params = {k: v for k, v in query.params.items() if k != "org_id"}
    async with db.session(org.id) as session:
        with pytest.raises(StatementError, match="org_id"):
            await session.execute(query.statement, params)
