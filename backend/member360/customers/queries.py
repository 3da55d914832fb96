"""Root fields that find members: by any identifier, or by a search as you type."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy import func, or_, select, tuple_

from member360.customers.types import Customer, parse_global_id
from member360.db import table
from member360.errors import InputError
from member360.graphql.info import Info
from member360.graphql.relay import (
    Connection,
    connection,
    decode_text_cursor,
    encode_cursor,
    page_size,
)

customers = table("customers")
# Characters of a search text, after trimming; the report's text filters have the same cap.
MAX_SEARCH = 200


async def _follow_merges(info: Info, row: Any) -> Any:
    """A merged member's ids resolve to the member it was merged into."""
    ctx = info.context
    for _ in range(16):
        if row is None or row.merged_into_id is None:
            return row
        rows = await ctx.loaders.fetch(
            select(customers).where(
                customers.c.org_id == ctx.org_id, customers.c.id == row.merged_into_id
            )
        )
        row = rows[0] if rows else None
    return row


@strawberry.type
class CustomerQuery:
    @strawberry.field(description="One member by exactly one of its identifiers.")
    async def customer(
        self,
        info: Info,
        id: strawberry.ID | None = None,
        customer_id: str | None = None,
        external_id: str | None = None,
        mobile: str | None = None,
        email: str | None = None,
    ) -> Customer | None:
        ctx = info.context
        given = {
            k: v
            for k, v in {
                "id": id,
                "customerId": customer_id,
                "externalId": external_id,
                "mobile": mobile,
                "email": email,
            }.items()
            if v is not None
        }
        if len(given) != 1:
            raise InputError(
                "customer: give exactly one of id, customerId, externalId, mobile, email"
            )
        c = customers.c
        if id is not None:
            pk = parse_global_id(str(id))
            if pk is None:
                raise InputError(
                    "id: invalid id (pass the id of a Customer this API returned)", field="id"
                )
            cond = c.id == pk
        elif customer_id is not None:
            cond = c.customer_id == customer_id
        elif external_id is not None:
            cond = c.external_id == external_id
        elif mobile is not None:
            cond = c.mobile == mobile
        else:
            cond = func.lower(c.email) == str(email).lower()
        rows = await ctx.loaders.fetch(
            # A live member wins over one merged away that shares the identifier.
            select(customers)
            .where(c.org_id == ctx.org_id, cond)
            .order_by(c.merged_into_id.is_not(None), c.id)
            .limit(1)
        )
        row = await _follow_merges(info, rows[0] if rows else None)
        return Customer.from_row(row, info) if row is not None else None

    @strawberry.field(
        description="Members whose name contains the text, or whose customerId, "
        "external id, mobile or email equals it."
    )
    async def customers(
        self, info: Info, search: str, first: int | None = 20, after: str | None = None
    ) -> Connection[Customer]:
        ctx = info.context
        text = search.strip()
        if not text:
            raise InputError("search: must not be empty")
        if len(text) > MAX_SEARCH:
            # Bounds the LIKE pattern (SQLite refuses long ones as "too complex").
            raise InputError(f"search: at most {MAX_SEARCH} characters (got {len(text)})")
        size = page_size(first)
        c = customers.c
        stmt = select(customers).where(
            c.org_id == ctx.org_id,
            c.merged_into_id.is_(None),
            or_(
                c.customer_id == text,
                c.external_id == text,
                c.mobile == text,
                func.lower(c.email) == text.lower(),
                func.lower(c.name).contains(text.lower(), autoescape=True),
            ),
        )
        cursor = decode_text_cursor(after)
        if cursor is not None:
            stmt = stmt.where(tuple_(c.name, c.id) > tuple_(*cursor))
        stmt = stmt.order_by(c.name, c.id).limit(size + 1)
        rows = await ctx.loaders.fetch(stmt)
        return connection(
            rows[:size],
            len(rows) > size,
            lambda r: Customer.from_row(r, info),
            lambda r: encode_cursor(r.name, r.id),
            cursor is not None,
        )
