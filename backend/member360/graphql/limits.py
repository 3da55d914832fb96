"""GraphQL limits: what one request may ask for, checked before any resolver (or SQL) runs.

`GraphQLLimits` is the schema extension that parses, validates and prices each operation:

1. Parse (cached): more than MAX_TOKENS tokens, or MAX_QUERY_CHARS characters, is
   QUERY_TOO_LONG; a document nested past the parser's own limit is QUERY_TOO_DEEP; any other
   syntax error is GRAPHQL_PARSE_FAILED. A document of several operations without an
   `operationName`, or a name none of its operations has, is BAD_USER_INPUT.
2. Shape (cached, before the spec's validation so that abusive documents cost little):
   fields nested more than MAX_DEPTH deep (introspection's `ofType` chains excepted) or
   selections (fields and fragments) nested more than MAX_NESTING deep: QUERY_TOO_DEEP;
   more than MAX_ALIASES aliases: TOO_MANY_ALIASES; one field repeated more than MAX_REPEATS
   times in a selection set, or more than MAX_DIRECTIVES directives on one node:
   QUERY_TOO_COMPLEX.
3. The spec's validation (cached) plus graphql-core's introspection depth rule
   (QUERY_TOO_DEEP) and, in production, no introspection (INTROSPECTION_DISABLED) and no
   "Did you mean" suggestions. Its other errors are GRAPHQL_VALIDATION_FAILED.
4. Cost, with the request's variables, before execution starts: `first` above a connection's
   cap (relay.MAX_PAGE, or what its field declares with relay.page_cap) is PAGE_TOO_LARGE,
   a cost above MAX_COST is QUERY_TOO_COMPLEX (see `operation_cost`).
   Then every text value the operation passes (literals and variables): a control character
   or an unpaired surrogate is BAD_USER_INPUT naming its place (member360.graphql.inputs).
5. The result's remaining errors: request errors found while starting execution (variables
   that do not coerce) are BAD_USER_INPUT; in production
   "Did you mean" suggestions are cut, and `MaskUnexpectedErrors` sends an error without a
   code as "Unexpected error." (INTERNAL_SERVER_ERROR) while its detail goes only to the log.

Batching (BATCHING_DISABLED) and the HTTP side of things live in member360.security.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    ArgumentNode,
    DirectiveNode,
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    parse,
    validate,
)
from graphql.validation import (
    ASTValidationRule,
    MaxIntrospectionDepthRule,
    NoSchemaIntrospectionCustomRule,
)
from strawberry.extensions import MaskErrors, SchemaExtension
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

from member360.graphql import relay
from member360.graphql.errors import (
    BAD_USER_INPUT,
    GRAPHQL_PARSE_FAILED,
    GRAPHQL_VALIDATION_FAILED,
    INTERNAL_SERVER_ERROR,
    INTROSPECTION_DISABLED,
    PAGE_TOO_LARGE,
    QUERY_TOO_COMPLEX,
    QUERY_TOO_DEEP,
    QUERY_TOO_LONG,
    TOO_MANY_ALIASES,
    UNAVAILABLE,
    bad_input,
    code_of,
    coded,
)
from member360.graphql.inputs import TextPlan, plan_texts

MAX_TOKENS = 2_000
MAX_QUERY_CHARS = 50_000
MAX_DEPTH = 10
MAX_NESTING = 40
MAX_ALIASES = 15
MAX_REPEATS = 3
MAX_DIRECTIVES = 3
# Objects an operation may resolve (see operation_cost). The customer page (bench/drive/queries.py
# CUSTOMER_PAGE) costs 1,039; the 50-member list with three histories of 10 each
# (CUSTOMER_LIST) 3,302; 50 members with seven histories of 10 (tests/graphql/
# test_query_counts.py) 17,501; a report page of 500 rows 1,002. 100 members with two
# histories of 100 each cost 40,501, with redemptions of 100 and their breakups 220,401.
MAX_COST = 25_000
# Validation errors reported at most (graphql-core's default is 100).
MAX_VALIDATION_ERRORS = 20
CACHE_SIZE = 512

UNEXPECTED_ERROR = "Unexpected error."

_SUGGESTION = re.compile(r"\s*Did you mean .*$", re.DOTALL)


# ------------------------------------------------------------------------------- parsing


@functools.lru_cache(maxsize=CACHE_SIZE)
def parse_document(query: str) -> DocumentNode:
    """Parses a document under the limits; raises a coded GraphQLError when it cannot."""
    if len(query) > MAX_QUERY_CHARS:
        raise GraphQLError(
            f"the document has more than {MAX_QUERY_CHARS} characters",
            extensions={"code": QUERY_TOO_LONG},
        )
    try:
        return parse(query, max_tokens=MAX_TOKENS)
    except GraphQLError as error:
        if "more than" in error.message and "tokens" in error.message:
            raise GraphQLError(
                f"the document has more than {MAX_TOKENS} tokens",
                extensions={"code": QUERY_TOO_LONG},
            ) from None
        if "nested too deeply" in error.message:
            raise coded(error, QUERY_TOO_DEEP) from None
        raise coded(error, GRAPHQL_PARSE_FAILED) from None
    except RecursionError:  # the parser's own nesting limit should come first
        raise GraphQLError(
            "the document is nested too deeply", extensions={"code": QUERY_TOO_DEEP}
        ) from None


# ------------------------------------------------------------------- shape (AST only)


class _TooDeep(Exception):
    pass


def _selection_depth(
    selections: SelectionSetNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    memo: dict[str, tuple[int, int]],
    active: set[str],
    nesting: int,
) -> tuple[int, int]:
    """(field depth, selection nesting) below a selection set; raises _TooDeep past a limit.

    Fragments are measured once (their depth does not depend on where they are spread), so a
    document that spreads fragments exponentially often costs linear time; recursion stops
    at MAX_NESTING, so Python's own recursion limit is never near.
    """
    if nesting > MAX_NESTING:
        raise _TooDeep
    depth = nest = 0
    for selection in selections.selections:
        if isinstance(selection, FieldNode):
            d, n = (
                _selection_depth(selection.selection_set, fragments, memo, active, nesting + 1)
                if selection.selection_set
                else (0, 0)
            )
            # `ofType` chains only unwrap a type ([Foo!]! is three deep) and cost nothing.
            d += 0 if selection.name.value == "ofType" else 1
        elif isinstance(selection, InlineFragmentNode):
            d, n = _selection_depth(selection.selection_set, fragments, memo, active, nesting + 1)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name in active or name not in fragments:
                continue  # a cycle or an unknown fragment: validation reports either
            if name not in memo:
                active.add(name)
                memo[name] = _selection_depth(
                    fragments[name].selection_set, fragments, memo, active, nesting + 1
                )
                active.discard(name)
            d, n = memo[name]
        else:  # pragma: no cover - no other selection kinds exist
            continue
        depth, nest = max(depth, d), max(nest, n + 1)
        if depth > MAX_DEPTH or nesting + nest > MAX_NESTING:
            raise _TooDeep
    return depth, nest


def _nodes(document: DocumentNode) -> Iterator[Any]:
    """Every node that can carry a selection set or directives, each once."""
    stack: list[Any] = list(document.definitions)
    while stack:
        node = stack.pop()
        yield node
        selection_set = getattr(node, "selection_set", None)
        if selection_set is not None:
            stack.extend(selection_set.selections)


def _selection_keys(selection_set: SelectionSetNode) -> Iterator[str]:
    """The response keys a selection set names, through its inline fragments ("...F" for a
    fragment spread): the same key many times only makes validation slower."""
    stack = [selection_set]
    while stack:
        for selection in stack.pop().selections:
            if isinstance(selection, FieldNode):
                yield (selection.alias or selection.name).value
            elif isinstance(selection, FragmentSpreadNode):
                yield f"...{selection.name.value}"
            elif isinstance(selection, InlineFragmentNode):
                stack.append(selection.selection_set)


def _shape_errors(document: DocumentNode) -> list[GraphQLError]:
    """The refusals that need only the document, at most one of each kind."""
    errors: list[GraphQLError] = []
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    try:
        memo: dict[str, tuple[int, int]] = {}
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode | FragmentDefinitionNode):
                _selection_depth(definition.selection_set, fragments, memo, set(), 1)
    except _TooDeep:
        errors.append(
            GraphQLError(
                f"the query nests fields more than {MAX_DEPTH} deep (or selections more "
                f"than {MAX_NESTING} deep)",
                extensions={"code": QUERY_TOO_DEEP},
            )
        )
    aliases = 0
    repeated: tuple[Any, str, int] | None = None
    overloaded: Any = None
    for node in _nodes(document):
        if isinstance(node, FieldNode) and node.alias is not None:
            aliases += 1
        directives: tuple[DirectiveNode, ...] = getattr(node, "directives", None) or ()
        if overloaded is None and len(directives) > MAX_DIRECTIVES:
            overloaded = node
        selection_set = getattr(node, "selection_set", None)
        if repeated is None and selection_set is not None:
            keys = Counter(_selection_keys(selection_set))
            if keys:
                key, times = keys.most_common(1)[0]
                if times > MAX_REPEATS:
                    repeated = (node, key, times)
    if aliases > MAX_ALIASES:
        errors.append(
            GraphQLError(
                f"the query uses {aliases} aliases; at most {MAX_ALIASES} are allowed",
                extensions={"code": TOO_MANY_ALIASES},
            )
        )
    if repeated is not None:
        node, key, times = repeated
        errors.append(
            GraphQLError(
                f"'{key}' is selected {times} times in one selection set; "
                f"at most {MAX_REPEATS} are allowed",
                [node] if getattr(node, "loc", None) else None,
                extensions={"code": QUERY_TOO_COMPLEX},
            )
        )
    if overloaded is not None:
        errors.append(
            GraphQLError(
                f"more than {MAX_DIRECTIVES} directives on one selection",
                [overloaded] if getattr(overloaded, "loc", None) else None,
                extensions={"code": QUERY_TOO_COMPLEX},
            )
        )
    return errors


# ------------------------------------------------------------------------- validation


def _coded_rule(rule: type[ASTValidationRule], code: str) -> type[ASTValidationRule]:
    class Coded(rule):  # type: ignore[valid-type,misc]
        def report_error(self, error: GraphQLError) -> None:
            super().report_error(coded(error, code))

    Coded.__name__ = Coded.__qualname__ = f"Coded{rule.__name__}"
    return Coded


_INTROSPECTION_DEPTH = _coded_rule(MaxIntrospectionDepthRule, QUERY_TOO_DEEP)
_NO_INTROSPECTION = _coded_rule(NoSchemaIntrospectionCustomRule, INTROSPECTION_DISABLED)


def _uncoded(errors: list[GraphQLError], code: str) -> list[GraphQLError]:
    return [e if code_of(e) else coded(e, code) for e in errors]


# ------------------------------------------------------------------------------- cost


def _is_connection(type_: Any) -> bool:
    return isinstance(type_, GraphQLObjectType) and {"edges", "pageInfo"} <= type_.fields.keys()


def _is_list(field: GraphQLField) -> bool:
    type_ = field.type
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return isinstance(type_, GraphQLList)


class _Pricing:
    """Prices one operation with the request's variables (see `operation_cost`)."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
        defaults: Mapping[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.defaults = defaults
        self.memo: dict[str, tuple[int, int]] = {}
        self.too_large: GraphQLError | None = None

    def selection_set(self, node: SelectionSetNode, parent: Any) -> tuple[int, int]:
        """(fixed cost, cost per item) of a selection set; only connections have the latter."""
        fixed = per_item = 0
        connection = _is_connection(parent)
        for selection in node.selections:
            if isinstance(selection, FieldNode):
                cost = self.field(selection, parent, connection)
                if connection and selection.name.value == "edges":
                    per_item += cost
                else:
                    fixed += cost
                continue
            if isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                type_ = self.schema.get_type(condition.name.value) if condition else parent
                f, p = self.selection_set(selection.selection_set, type_)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name not in self.memo:
                    fragment = self.fragments.get(name)
                    self.memo[name] = (0, 0)  # validated documents have no cycles
                    if fragment is not None:
                        type_ = self.schema.get_type(fragment.type_condition.name.value)
                        self.memo[name] = self.selection_set(fragment.selection_set, type_)
                f, p = self.memo[name]
            else:  # pragma: no cover
                continue
            fixed += f
            per_item += p
        return fixed, per_item

    def field(self, node: FieldNode, parent: Any, in_connection: bool) -> int:
        name = node.name.value
        if name in ("__schema", "__type"):
            return 0  # the schema is in memory; the depth rules bound introspection
        if node.selection_set is None:
            return 0  # a scalar comes with its object
        definition: GraphQLField | None = (getattr(parent, "fields", None) or {}).get(name)
        if definition is None:
            return 1
        fixed, per_item = self.selection_set(node.selection_set, get_named_type(definition.type))
        if "first" in definition.args:
            return 1 + fixed + self.first(node, definition) * per_item
        if in_connection and name == "edges":
            many = 1  # the connection's `first` already counts its edges
        elif _is_list(definition):
            many = relay.DEFAULT_PAGE
        else:
            many = 1
        return many * (1 + fixed + per_item)

    def first(self, node: FieldNode, definition: GraphQLField) -> int:
        default = definition.args["first"].default_value
        value: Any = default if isinstance(default, int) else None
        for argument in node.arguments or ():
            if argument.name.value != "first":
                continue
            literal = argument.value
            if isinstance(literal, IntValueNode):
                value = int(literal.value)
            elif isinstance(literal, VariableNode):
                var = literal.name.value
                value = self.variables[var] if var in self.variables else self.defaults.get(var)
            else:
                value = None
        if not isinstance(value, int) or isinstance(value, bool):
            value = relay.DEFAULT_PAGE  # what the resolvers use for a missing `first`
        cap = relay.page_cap_of(definition)
        if value > cap and self.too_large is None:
            self.too_large = GraphQLError(
                f"first: at most {cap} rows per page (got {value})",
                [node],
                extensions={"code": PAGE_TOO_LARGE, "field": "first"},
            )
        return max(value, 0)


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    """The operation that runs: the named one, else the only one (`operation_choice_error`
    refuses a document of several operations without a name before this is asked)."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if operations else None
    return next((o for o in operations if o.name and o.name.value == name), None)


def operation_choice_error(document: DocumentNode, name: object) -> GraphQLError | None:
    """The refusal when `operationName` does not pick exactly one operation of the document.

    The spec makes a document of several operations without a name, and a name no operation
    has, request errors (Strawberry would run the first, or answer a plain-text 400).
    """
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        if len(operations) <= 1:
            return None
        named = ", ".join(o.name.value for o in operations if o.name)
        message = (
            f"operationName: must provide operation name if the document contains multiple "
            f"operations (it has {len(operations)}: {named})"
        )
    elif not isinstance(name, str):
        message = "operationName: must be a string"
    elif any(o.name and o.name.value == name for o in operations):
        return None
    else:
        message = f'operationName: unknown operation named "{name[:100]}"'
    return bad_input(message, field="operationName")


@dataclass(frozen=True)
class Cost:
    cost: int
    error: GraphQLError | None


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None = None,
    variables: Mapping[str, Any] | None = None,
) -> Cost:
    """What an operation may cost, and the refusal if it is over a limit.

    The cost is the number of objects the operation may resolve: an object field costs 1 and
    its selections once, a list of objects that per item, with `first` items (else the
    argument's default, else relay.DEFAULT_PAGE) on a connection's edges and the default page
    on any other list; a connection itself costs 1. Scalars come with their object and cost
    nothing (the token limit bounds how many a document names). Introspection costs nothing
    here (the depth rules bound it). A `first` above the connection's cap is PAGE_TOO_LARGE.
    """
    operation = _operation(document, operation_name)
    if operation is None:
        return Cost(0, None)  # execution reports the unknown operation
    root = schema.get_root_type(operation.operation)
    defaults = {
        v.variable.name.value: int(v.default_value.value)
        for v in operation.variable_definitions or ()
        if isinstance(v.default_value, IntValueNode)
    }
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    pricing = _Pricing(schema, fragments, variables or {}, defaults)
    fixed, per_item = pricing.selection_set(operation.selection_set, root)
    cost = fixed + per_item
    if pricing.too_large is not None:
        return Cost(cost, pricing.too_large)
    if cost > MAX_COST:
        return Cost(
            cost,
            GraphQLError(
                f"the query may resolve {cost} objects; at most {MAX_COST} are allowed (each "
                "object counts once per row of every list around it: lower `first` or select "
                "fewer nested lists)",
                extensions={"code": QUERY_TOO_COMPLEX, "cost": cost, "maxCost": MAX_COST},
            ),
        )
    return Cost(cost, None)


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


@functools.lru_cache(maxsize=CACHE_SIZE)
def _first_variables(query: str) -> tuple[str, ...]:
    """Names of the variables a document passes as `first`, sorted."""
    names = {
        node.value.name.value
        for node in _arguments(parse_document(query))
        if node.name.value == "first" and isinstance(node.value, VariableNode)
    }
    return tuple(sorted(names))


def _arguments(document: DocumentNode) -> Iterator[ArgumentNode]:
    for node in _nodes(document):
        yield from getattr(node, "arguments", None) or ()


# -------------------------------------------------------------------------- extension


class Policy:
    """The limits of one schema, with the caches its requests share."""

    def __init__(self, *, production: bool) -> None:
        self.production = production
        self.check = functools.lru_cache(maxsize=CACHE_SIZE)(self._check)
        self._cost = functools.lru_cache(maxsize=CACHE_SIZE)(self._cost_uncached)
        self.texts = functools.lru_cache(maxsize=CACHE_SIZE)(self._texts)

    def _check(
        self,
        schema: GraphQLSchema,
        query: str,
        rules: tuple[type[ASTValidationRule], ...],
    ) -> list[GraphQLError]:
        document = parse_document(query)
        errors = _shape_errors(document)
        if errors:
            return errors
        # graphql-core's introspection depth rule, with a code.
        rules = tuple(r for r in rules if r is not MaxIntrospectionDepthRule)
        extra: tuple[type[ASTValidationRule], ...] = (
            MaybeNullValidationRule,
            OneOfInputValidationRule,
            _INTROSPECTION_DEPTH,
        )
        if self.production:
            extra += (_NO_INTROSPECTION,)
        errors = validate(
            schema,
            document,
            (*rules, *extra),
            max_errors=MAX_VALIDATION_ERRORS,
            hide_suggestions=self.production,
        )
        return _uncoded(errors, GRAPHQL_VALIDATION_FAILED)

    def _cost_uncached(
        self,
        schema: GraphQLSchema,
        query: str,
        operation_name: str | None,
        firsts: tuple[tuple[str, Any], ...],
    ) -> Cost:
        return operation_cost(schema, parse_document(query), operation_name, dict(firsts))

    def cost(
        self,
        schema: GraphQLSchema,
        query: str,
        operation_name: str | None,
        variables: Mapping[str, Any] | None,
    ) -> Cost:
        # Only the variables given as `first` change the price (most documents have none).
        given = variables or {}
        firsts = tuple(
            (name, given[name] if _hashable(given[name]) else None)
            for name in _first_variables(query)
            if name in given
        )
        return self._cost(schema, query, operation_name, firsts)

    def _texts(self, schema: GraphQLSchema, query: str, operation_name: str | None) -> TextPlan:
        document = parse_document(query)
        return plan_texts(schema, document, _operation(document, operation_name))

    def extension(self) -> SchemaExtension:
        return GraphQLLimits(self)


class GraphQLLimits(SchemaExtension):
    """Parses, validates and prices each operation under the limits (see the module doc)."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and result.errors:
            result.errors = [self._finish(e) for e in result.errors]

    def on_parse(self) -> Iterator[None]:
        ctx = self.execution_context
        if ctx.query is not None and ctx.graphql_document is None:
            # A coded GraphQLError raised here becomes the response's only error.
            document = parse_document(ctx.query)
            # Strawberry's `operation_name` falls back to the first operation's: only the
            # provided value tells whether the request named one.
            error = operation_choice_error(document, ctx._provided_operation_name)  # type: ignore[attr-defined]
            if error is not None:
                raise error
            ctx.graphql_document = document
        yield

    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        if ctx.query is not None and ctx.pre_execution_errors is None:
            ctx.pre_execution_errors = list(
                self.policy.check(ctx.schema._schema, ctx.query, tuple(ctx.validation_rules))
            )
        yield

    def on_execute(self) -> Iterator[None]:
        ctx = self.execution_context
        if ctx.query is not None and ctx.result is None:
            priced = self.policy.cost(
                ctx.schema._schema, ctx.query, ctx.operation_name, ctx.variables
            )
            if priced.error is not None:
                # Execution does not start: no resolver, no SQL.
                ctx.result = ExecutionResult(data=None, errors=[priced.error])
            else:
                plan = self.policy.texts(ctx.schema._schema, ctx.query, ctx.operation_name)
                refused = plan.errors(ctx.variables)
                if refused:
                    ctx.result = ExecutionResult(data=None, errors=refused)
        yield

    def _finish(self, error: GraphQLError) -> GraphQLError:
        if code_of(error) is None and error.path is None:
            # Raised while execution starts: variables that do not coerce. Resolver errors
            # always have a path.
            error = coded(error, BAD_USER_INPUT)
        if self.policy.production and "Did you mean" in error.message:
            error = GraphQLError(
                _SUGGESTION.sub("", error.message),
                error.nodes,
                error.source,
                error.positions,
                error.path,
                error.original_error,
                error.extensions,
            )
        return error


class MaskUnexpectedErrors(MaskErrors):
    """Production: an error without a code is unexpected; clients get "Unexpected error."

    Schema.process_errors has logged it in full before this runs. Errors with a code
    (FORBIDDEN, BAD_USER_INPUT, the limits' refusals …) are meant for the client and stay.
    """

    def __init__(self) -> None:
        super().__init__(should_mask_error=lambda e: code_of(e) is None)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        from member360.unavailable import UNAVAILABLE_MESSAGE, is_database_unavailable

        masked = super().anonymise_error(error)
        if error.original_error is not None and is_database_unavailable(error.original_error):
            # A database outage is no bug: say so, so that clients retry (the HTTP layer
            # answers 503 UNAVAILABLE the same way when it fails before GraphQL runs).
            masked.message = UNAVAILABLE_MESSAGE
            masked.extensions = {"code": UNAVAILABLE}
            return masked
        masked.extensions = {"code": INTERNAL_SERVER_ERROR}
        return masked


def graphql_extensions(*, production: bool) -> list[Callable[[], SchemaExtension]]:
    """Extension factories for strawberry.Schema(extensions=...), in order.

    MaskUnexpectedErrors comes first so that it sees the errors last, after GraphQLLimits
    has given the request errors their codes.
    """
    policy = Policy(production=production)
    return [MaskUnexpectedErrors, policy.extension] if production else [policy.extension]
