"""schema.graphql is the contract partner apps read: it must equal what the code exports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from member360.graphql.schema import schema

ROOT = Path(__file__).resolve().parents[1]


def test_schema_file_equals_exported_schema() -> None:
    exported = schema.as_str() + "\n"
    assert (ROOT / "schema.graphql").read_text() == exported, (
        "run `make schema` and commit schema.graphql"
    )


def test_export_schema_command_prints_the_schema() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "member360.cli", "export-schema"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout == (ROOT / "schema.graphql").read_text()


def test_contract_names_are_present() -> None:
    # Optional arguments render with "= null"; clients see the same arguments either way.
    sdl = schema.as_str().replace(" = null", "")
    for name in (
        "customer(id: ID, customerId: String, externalId: String, mobile: String, email: String): Customer",
        "customers(search: String!, first: Int = 20, after: String): CustomerConnection!",
        "interactions(channel: Channel, first: Int, after: String): CommunicationConnection!",
        "activity(first: Int, after: String): PointsActivityConnection!",
        "transfers(first: Int, after: String): PointsTransferConnection!",
        "tierHistory(first: Int, after: String): TierChangeConnection!",
        "expired(first: Int, after: String): ExpiredPointsConnection!",
        "ingestEvents(events: [JSON!]!): IngestResult!",
        "points: PointsHistory!",
        "coupons: CouponHistory!",
        "redemptions(first: Int, after: String): RedemptionConnection!",
        "expirySchedule: [ExpiryBucket!]!",
        "runningBalance: Int!",
        "transactions(type: TransactionType, first: Int, after: String): TransactionConnection!",
    ):
        assert name in sdl, name
