"""Runs a planned read as its one statement: a Strawberry extension in front of the executor.

After the limits and cost checks (GraphQLLimits, which runs first and may already have
answered), a query the planner can answer runs as one SQL statement, and the JSON the database
built becomes the response's `data` as it is (orjson.Fragment: no parse, no re-serialize).
Anything not planned runs on Strawberry's executor, the reference implementation; `STATS`
counts both, and a debug log line names why a request fell back.
"""

from __future__ import annotations

import logging
from collections import Counter, OrderedDict
from typing import Any

import orjson
from graphql import ExecutionResult, GraphQLError, OperationDefinitionNode
from graphql.execution.values import VariableValues, get_variable_values
from strawberry.extensions import SchemaExtension

from member360.graphql.access import PII_SCOPE
from member360.graphql.errors import forbidden
from member360.history.tab import PYTHON_ONLY
from member360.reads.planner import REFUSED, Caller, NotPlanned, Plan, operation_of, plan

log = logging.getLogger("member360.reads")
# The markers as both databases write them in JSON (control characters escaped, as orjson does).
REFUSED_JSON = orjson.dumps(REFUSED)[1:-1]
PYTHON_ONLY_JSON = orjson.dumps(PYTHON_ONLY)[1:-1]

# planned / fallback requests since the process started (and each fallback's reason).
STATS: Counter[str] = Counter()
_CACHE_SIZE = 256  # distinct (document, variables shape, caller): the SPA has ~100
_plans: OrderedDict[Any, Plan | str] = OrderedDict()


def _coerced_variables(schema: Any, operation: OperationDefinitionNode, raw: Any) -> VariableValues:
    """graphql-core's VariableValues (what its argument coercion takes)."""
    coerced = get_variable_values(schema, operation.variable_definitions or (), raw or {})
    if isinstance(coerced, list):  # errors: the reference reports them
        raise NotPlanned("variables do not coerce")
    return coerced


def _plan_for(
    execution_context: Any,
    operation: OperationDefinitionNode,
    variables: VariableValues,
    caller: Caller,
    dialect: str,
) -> Plan:
    ctx = execution_context
    # The shape of the variables: which are null (absent counts as null) changes the SQL.
    definitions = operation.variable_definitions or ()
    nulls = tuple(variables.coerced.get(d.variable.name.value) is None for d in definitions)
    cache_key = (ctx.query, ctx.operation_name, nulls, caller, dialect)
    found = _plans.get(cache_key)
    if found is None:
        try:
            found = plan(
                ctx.schema._schema,
                ctx.graphql_document,
                ctx.operation_name,
                variables,
                dialect,
                caller,
            )
        except NotPlanned as why:
            found = str(why)
        except Exception:
            # A planner bug must not cost the caller an answer: logged, and the document left
            # to the reference (remembered, so it is not planned again on every request).
            STATS["failed"] += 1
            log.exception("planning a read failed; the Python executor answers it")
            found = "the planner failed (logged)"
        _plans[cache_key] = found
        if len(_plans) > _CACHE_SIZE:
            _plans.popitem(last=False)
    else:
        _plans.move_to_end(cache_key)
    if isinstance(found, str):
        raise NotPlanned(found)
    return found


async def _run(context: Any, chosen: Plan, parameters: dict[str, Any]) -> Any:
    if context.loaders.dialect != "postgresql":
        return await context.loaders.fetch(chosen.statement, parameters)
    # The statement binds its organization itself (planner: `tenant`), so it runs alone, in
    # autocommit: one round trip, no BEGIN, no separate set_config, no ROLLBACK. The setting
    # is transaction-local, and the statement's implicit transaction ends with it.
    async with context.db.engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        return (await autocommit.execute(chosen.statement, parameters)).all()


def _with_refusals(chosen: Plan, answer: bytes) -> ExecutionResult:
    """The answer with each refused personal field's marker replaced by null and its FORBIDDEN
    error added at its path, as graphql/access.py's resolvers answer (the one case where the
    database's JSON is parsed here: errors have to be merged into it)."""
    data = orjson.loads(answer)
    errors: list[GraphQLError] = []

    def walk(value: Any, path: list[str | int]) -> Any:
        if isinstance(value, dict):
            return {k: walk(v, [*path, k]) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, [*path, i]) for i, v in enumerate(value)]
        if isinstance(value, str) and value.startswith(REFUSED):
            refusal = chosen.refusals[int(value[len(REFUSED) : -1])]
            message = f"{refusal.label} is personal data: reading it needs the {PII_SCOPE} scope"
            coded = forbidden(message, scope=PII_SCOPE)
            errors.append(
                GraphQLError(message, [refusal.node], path=path, extensions=coded.extensions)
            )
            return None
        return value

    return ExecutionResult(data=walk(data, []), errors=errors or None)


async def answer(execution_context: Any) -> ExecutionResult | None:
    """The answer of a planned request, or None: the reference executor answers."""
    ctx = execution_context
    context = ctx.context
    if context is None or ctx.graphql_document is None or ctx.query is None:
        return None
    if not context.settings.compiled_reads:
        return None
    try:
        operation = operation_of(ctx.graphql_document, ctx.operation_name)
        variables = _coerced_variables(ctx.schema._schema, operation, ctx.variables)
        principal = context.principal
        caller = Caller(pii=context.pii, scopes=frozenset(principal.scopes))
        chosen = _plan_for(ctx, operation, variables, caller, context.loaders.dialect)
        parameters = chosen.parameters(
            variables, context.org_id, principal.org.tz.key, context.now, principal
        )
    except NotPlanned as why:
        STATS["fallback"] += 1
        log.debug("read not planned: %s", why)
        return None
    try:
        rows = await _run(context, chosen, parameters)
    except Exception:
        # A bug of the planner's SQL must not cost the caller an answer: the reference runs
        # (and meets the same database trouble, if that is what it was, answering as it does).
        STATS["failed"] += 1
        log.exception("a planned read failed; the Python executor answers it")
        if context.loaders.dialect != "postgresql":
            await context.loaders.rollback()
        return None
    data = rows[0][0]
    answer_bytes: bytes = data.encode() if isinstance(data, str) else data
    if chosen.may_be_python_only and PYTHON_ONLY_JSON in answer_bytes:
        STATS["fallback"] += 1
        log.debug("read not planned: a value only Python states exactly")
        return None
    STATS["planned"] += 1
    if chosen.refusals and REFUSED_JSON in answer_bytes:
        return _with_refusals(chosen, answer_bytes)
    # The bytes go out as the database wrote them: orjson embeds a Fragment.
    fragment: Any = orjson.Fragment(answer_bytes)
    return ExecutionResult(data=fragment, errors=None)


class CompiledReads(SchemaExtension):
    """Answers planned reads with their one statement (see the module docstring)."""

    async def on_execute(self) -> Any:  # type: ignore[override]
        ctx = self.execution_context
        if ctx.result is None:
            result = await answer(ctx)
            if result is not None:
                ctx.result = result
        yield


def reset() -> None:
    """Forgets every plan and count (tests)."""
    _plans.clear()
    STATS.clear()
