"""The report's part of the contract is in the exported schema, with its binding names."""

from __future__ import annotations

import re

from member360.graphql.schema import schema


def fields_of(sdl: str, kind: str, name: str) -> set[str]:
    body = re.search(rf"{kind} {name} {{(.*?)\n}}", sdl, re.S)
    assert body is not None, name
    lines = [line.strip() for line in body.group(1).splitlines()]
    return {line.split(":")[0] for line in lines if line and not line.startswith('"')}


def test_the_report_has_the_contract_names() -> None:
    sdl = schema.as_str().replace(" = null", "")
    assert (
        "interactionReport(filter: InteractionReportFilter!, first: Int = 50, after: String): "
        "InteractionReportConnection!" in sdl
    )
    assert fields_of(sdl, "input", "InteractionReportFilter") == {
        "from", "to", "name", "email", "orderId", "actionId", "storeId", "coupon", "source",
        "contentText",
    }  # fmt: skip
    assert fields_of(sdl, "type", "InteractionReportRow") == {
        "date", "name", "userId", "email", "actionId", "actionName", "orderId", "customId",
        "coupon", "points", "groupPoints", "pointsExpirationDate", "sectionId", "sectionName",
        "surveyId", "surveyName", "reason", "source", "optInStatus", "senderId", "receiverId",
        "storeId", "storeName", "storeRegion", "storeType", "phoneNumber", "userRole",
    }  # fmt: skip
    assert {"edges", "pageInfo", "totalCount", "totals"} <= fields_of(
        sdl, "type", "InteractionReportConnection"
    )
    # Nullable: without reports:read it is null with a FORBIDDEN error, and the rest of
    # `organization` still answers.
    assert "sources: [String!]\n" in sdl
