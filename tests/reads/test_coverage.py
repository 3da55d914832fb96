"""Which of the documents people really send are planned: the SPA's operations (read from the
generated frontend/src/gql/gql.ts), the README's example and the bench documents.

The planner must cover every read among them. Those it does not cover yet are listed in
NOT_PLANNED_YET with the reason the planner gives: the list may only shrink (a new SPA query
that is not planned fails here, and so does a listed one that became planned).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from bench.drive.queries import CUSTOMER_LIST, CUSTOMER_PAGE, MEMBER_ACTIVITY
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLNonNull,
    OperationDefinitionNode,
    OperationType,
    parse,
    type_from_ast,
)
from graphql.execution.values import get_variable_values

from member360.graphql.schema import schema
from member360.reads.planner import Caller, NotPlanned, plan

ROOT = Path(__file__).parents[2]
EVERY_SCOPE = Caller(
    pii=True, scopes=frozenset({"customers:read", "reports:read", "exports:write"})
)

# Operation -> what the planner says of it. Each is the next slice of the compiled reads.
NOT_PLANNED_YET: dict[str, str] = {
    "ExportJobs": "Query.exportJobs",
    "ExportJob": "Query.exportJob",
    "InteractionReport": "Query.interactionReport",
    "InteractionReportTotals": "Query.interactionReport",
}


def spa_documents() -> dict[str, str]:
    """Operation name -> its document with the fragments it spreads, as the SPA sends it."""
    generated = (ROOT / "frontend/src/gql/gql.ts").read_text()
    block = generated[generated.index("type Documents = {") : generated.index("};")]
    texts = [json.loads(m) for m in re.findall(r'^\s*("(?:[^"\\]|\\.)*"): typeof', block, re.M)]
    fragments = {
        d.name.value: text
        for text in texts
        for d in parse(text).definitions
        if not isinstance(d, OperationDefinitionNode)
    }
    documents = {}
    for text in texts:
        for definition in parse(text).definitions:
            if isinstance(definition, OperationDefinitionNode) and definition.name is not None:
                spread = set(re.findall(r"\.\.\.\s*(\w+)", text)) & set(fragments)
                documents[definition.name.value] = "\n".join(
                    [text, *(fragments[f] for f in spread)]
                )
    return documents


def readme_example() -> str:
    readme = (ROOT / "README.md").read_text()
    return readme.split("```graphql", 1)[1].split("```", 1)[0]


def _sample(kind: Any) -> Any:
    """A value for a required variable: the plan's shape depends on which are null only."""
    named = kind.of_type if isinstance(kind, GraphQLNonNull) else kind
    if isinstance(named, GraphQLEnumType):
        return next(iter(named.values))
    if isinstance(named, GraphQLInputObjectType):
        return {
            name: _sample(field.type)
            for name, field in named.fields.items()
            if isinstance(field.type, GraphQLNonNull)
        }
    samples = {"Int": 1, "Boolean": True, "Float": 1.0, "Date": "2026-01-01"}
    return samples.get(named.name, "x")


def planner_verdict(document: str) -> str:
    """ "planned", or the planner's reason for leaving it to the Python executor."""
    gql = schema._schema
    parsed = parse(document)
    operation = next(d for d in parsed.definitions if isinstance(d, OperationDefinitionNode))
    if operation.operation is not OperationType.QUERY:
        return "not a query"
    raw = {}
    for definition in operation.variable_definitions or ():
        kind = type_from_ast(gql, definition.type)
        if isinstance(kind, GraphQLNonNull):
            raw[definition.variable.name.value] = _sample(kind)
    variables = get_variable_values(gql, operation.variable_definitions or (), raw)
    if isinstance(variables, list):
        return "variables: " + "; ".join(e.message for e in variables)
    name = operation.name.value if operation.name else None
    try:
        plan(gql, parsed, name, variables, "postgresql", EVERY_SCOPE)
        plan(gql, parsed, name, variables, "sqlite", EVERY_SCOPE)
    except NotPlanned as why:
        return str(why)
    return "planned"


def test_the_spa_documents_are_found() -> None:
    documents = spa_documents()
    assert {"Member", "CustomerSearch", "Organization"} <= set(documents)
    assert len(documents) > 15


@pytest.mark.parametrize(
    "document",
    [MEMBER_ACTIVITY, CUSTOMER_PAGE, CUSTOMER_LIST, readme_example()],
    ids=["bench-member", "bench-page", "bench-list", "readme"],
)
def test_the_bench_and_readme_documents_are_planned(document: str) -> None:
    assert planner_verdict(document) == "planned"


def test_every_spa_read_is_planned_but_the_listed_ones() -> None:
    verdicts = {name: planner_verdict(text) for name, text in spa_documents().items()}
    unplanned = {n: why for n, why in verdicts.items() if why not in ("planned", "not a query")}
    assert set(unplanned) == set(NOT_PLANNED_YET), unplanned
    for name, why in unplanned.items():
        assert NOT_PLANNED_YET[name] in why, (name, why)
