"""Text a request passes to fields: no control characters, checked before any resolver runs.

Every String and ID value an operation hands to a field (an argument, an input object's field
or a list's item; a literal in the document, a variable's value or a variable's default) is
checked once per request, before execution starts:

- C0 control characters (U+0000 to U+001F) are refused: PostgreSQL cannot store NUL, and none
  belongs in an identifier, a cursor or a search. Tab, line feed and carriage return are
  accepted only in the search texts of FREE_TEXT, where a pasted value may carry them (the
  searches ignore them).
- Unpaired surrogates (U+D800 to U+DFFF alone) are refused: they are no Unicode text, and no
  database driver can encode them.

A refusal is a BAD_USER_INPUT error naming the value's place as the caller wrote it, from the
root field down: `customers.search`, `interactionReport.filter.name`,
`requestExport.input.customerTab.customerId`, `customer.points.activity.after`; its
`extensions.field` holds the same place.

JSON arguments (ingestEvents' `events`) are not walked here: the import format validates its
own fields and names the event's index and field.

The walk over the document is cached per (document, operation); a request then checks only the
variables that reach a text position.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    GraphQLSchema,
    InlineFragmentNode,
    ListValueNode,
    Node,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    ValueNode,
    VariableNode,
)

from member360.graphql.errors import bad_input

TEXT_SCALARS = frozenset({"String", "ID"})
# At most this many refusals per request: one is enough to fix, a few save round trips.
MAX_ERRORS = 20

# Search texts where tab, line feed and carriage return are accepted (as schema coordinates:
# "Type.field.argument" for an argument, "InputType.field" for an input field). `check_schema`
# refuses an entry the schema lacks.
FREE_TEXT = frozenset(
    {
        "Query.customers.search",
        "InteractionReportFilter.name",
        "InteractionReportFilter.email",
        "InteractionReportFilter.orderId",
        "InteractionReportFilter.coupon",
        "InteractionReportFilter.contentText",
    }
)

_REFUSED = re.compile(r"[\x00-\x1f\ud800-\udfff]")
_REFUSED_IN_FREE_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


def text_error(value: str, place: str, coordinate: str) -> GraphQLError | None:
    """The refusal of one text value at `place`, or None when it is acceptable."""
    pattern = _REFUSED_IN_FREE_TEXT if coordinate in FREE_TEXT else _REFUSED
    found = pattern.search(value)
    if found is None:
        return None
    char = found.group()
    position = found.start() + 1
    if "\ud800" <= char <= "\udfff":
        reason = f"not valid Unicode (an unpaired surrogate at character {position})"
    else:
        reason = f"control characters are not allowed (U+{ord(char):04X} at character {position})"
    return bad_input(f"{place}: {reason}", field=place)


def _nullable(type_: Any) -> Any:
    return type_.of_type if isinstance(type_, GraphQLNonNull) else type_


def _holds_text(type_: Any, seen: set[str] | None = None) -> bool:
    """Whether a value of this input type can contain a String or ID anywhere."""
    type_ = _nullable(type_)
    if isinstance(type_, GraphQLList):
        return _holds_text(type_.of_type, seen)
    if isinstance(type_, GraphQLScalarType):
        return type_.name in TEXT_SCALARS
    if isinstance(type_, GraphQLInputObjectType):
        seen = seen if seen is not None else set()
        if type_.name in seen:
            return False  # a cycle: its other fields answer
        seen.add(type_.name)
        return any(_holds_text(f.type, seen) for f in type_.fields.values())
    return False  # enums


def value_errors(
    value: Any, type_: GraphQLInputType, place: str, coordinate: str
) -> Iterator[GraphQLError]:
    """Refusals inside a variable's value (JSON as sent), walked along the input type.

    Values of the wrong shape are skipped: coercion refuses them right after, naming the
    variable.
    """
    if value is None:
        return
    nullable = _nullable(type_)
    if isinstance(nullable, GraphQLList):
        if isinstance(value, list):
            for index, item in enumerate(value):
                yield from value_errors(item, nullable.of_type, f"{place}[{index}]", coordinate)
        else:  # one value where a list is expected: coercion makes it a list of one
            yield from value_errors(value, nullable.of_type, place, coordinate)
    elif isinstance(nullable, GraphQLInputObjectType):
        if isinstance(value, dict):
            for name, item in value.items():
                definition = nullable.fields.get(name)
                if definition is not None:
                    yield from value_errors(
                        item, definition.type, f"{place}.{name}", f"{nullable.name}.{name}"
                    )
    elif isinstance(nullable, GraphQLScalarType) and nullable.name in TEXT_SCALARS:
        if isinstance(value, str) and (error := text_error(value, place, coordinate)):
            yield error


@dataclass(frozen=True)
class VariableSite:
    """A place where a variable's value becomes (part of) a field's argument."""

    variable: str
    type: GraphQLInputType
    place: str
    coordinate: str
    default: ValueNode | None


@dataclass
class TextPlan:
    """What one operation passes as text: refused literals, and where variables go."""

    literal_errors: list[GraphQLError] = field(default_factory=list)
    sites: list[VariableSite] = field(default_factory=list)

    def errors(self, variables: Mapping[str, Any] | None) -> list[GraphQLError]:
        errors = list(self.literal_errors)
        given = variables if isinstance(variables, Mapping) else {}
        for site in self.sites:
            if len(errors) >= MAX_ERRORS:
                break
            if site.variable in given:
                found = value_errors(given[site.variable], site.type, site.place, site.coordinate)
                errors.extend(itertools.islice(found, MAX_ERRORS))
            elif site.default is not None:
                walker = _Walker(None, {}, {})
                walker.literal(site.default, site.type, site.place, site.coordinate)
                errors.extend(walker.plan.literal_errors)
        return _distinct(errors)[:MAX_ERRORS]


def _distinct(errors: list[GraphQLError]) -> list[GraphQLError]:
    seen: set[str] = set()
    out = []
    for error in errors:
        if error.message not in seen:
            seen.add(error.message)
            out.append(error)
    return out


class _Walker:
    def __init__(
        self,
        schema: GraphQLSchema | None,
        fragments: Mapping[str, FragmentDefinitionNode],
        defaults: Mapping[str, ValueNode | None],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.defaults = defaults
        self.visited: set[str] = set()
        self.plan = TextPlan()

    def selections(self, node: SelectionSetNode, parent: Any, prefix: str) -> None:
        fields = getattr(parent, "fields", None) or {}
        for selection in node.selections:
            if isinstance(selection, FieldNode):
                name = selection.name.value
                definition = fields.get(name)
                if definition is None:
                    continue  # __typename and introspection: nothing reaches a resolver of ours
                place = f"{prefix}{name}"
                for argument in selection.arguments or ():
                    arg = definition.args.get(argument.name.value)
                    if arg is not None:
                        self.literal(
                            argument.value,
                            arg.type,
                            f"{place}.{argument.name.value}",
                            f"{parent.name}.{name}.{argument.name.value}",
                        )
                if selection.selection_set is not None:
                    self.selections(selection.selection_set, _named(definition.type), f"{place}.")
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                type_ = self._type(condition.name.value) if condition else parent
                self.selections(selection.selection_set, type_, prefix)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in self.visited:
                    continue  # its arguments are the same wherever it is spread
                self.visited.add(name)
                self.selections(
                    fragment.selection_set, self._type(fragment.type_condition.name.value), prefix
                )

    def _type(self, name: str) -> Any:
        return self.schema.get_type(name) if self.schema is not None else None

    def literal(self, node: ValueNode, type_: Any, place: str, coordinate: str) -> None:
        if isinstance(node, VariableNode):
            if _holds_text(type_):
                name = node.name.value
                self.plan.sites.append(
                    VariableSite(name, type_, place, coordinate, self.defaults.get(name))
                )
            return
        nullable = _nullable(type_)
        if isinstance(nullable, GraphQLList):
            if isinstance(node, ListValueNode):
                for index, item in enumerate(node.values):
                    self.literal(item, nullable.of_type, f"{place}[{index}]", coordinate)
            else:
                self.literal(node, nullable.of_type, place, coordinate)
        elif isinstance(nullable, GraphQLInputObjectType):
            if isinstance(node, ObjectValueNode):
                for entry in node.fields:
                    name = entry.name.value
                    definition = nullable.fields.get(name)
                    if definition is not None:
                        self.literal(
                            entry.value,
                            definition.type,
                            f"{place}.{name}",
                            f"{nullable.name}.{name}",
                        )
        elif (
            isinstance(nullable, GraphQLScalarType)
            and nullable.name in TEXT_SCALARS
            and isinstance(node, StringValueNode)
        ):
            error = text_error(node.value, place, coordinate)
            if error is not None:
                self.plan.literal_errors.append(_at(error, node))


def _named(type_: Any) -> Any:
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        type_ = type_.of_type
    return type_


def _at(error: GraphQLError, node: Node) -> GraphQLError:
    return GraphQLError(error.message, [node] if node.loc else None, extensions=error.extensions)


def plan_texts(
    schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode | None
) -> TextPlan:
    """Walks the operation that runs (validated against `schema`) for its text values."""
    if operation is None:
        return TextPlan()
    root = schema.get_root_type(operation.operation)
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    defaults = {
        v.variable.name.value: v.default_value for v in operation.variable_definitions or ()
    }
    walker = _Walker(schema, fragments, defaults)
    walker.selections(operation.selection_set, root, "")
    return walker.plan


def check_schema(schema: GraphQLSchema, free_text: frozenset[str] = FREE_TEXT) -> None:
    """Raises when FREE_TEXT names an argument or input field the schema lacks."""
    missing = []
    for coordinate in free_text:
        type_name, *path = coordinate.split(".")
        type_ = schema.get_type(type_name)
        fields = getattr(type_, "fields", None) or {}
        if len(path) == 1:
            found = path[0] in fields and isinstance(type_, GraphQLInputObjectType)
        else:
            found = path[0] in fields and path[1] in fields[path[0]].args
        if not found:
            missing.append(coordinate)
    if missing:
        raise RuntimeError(f"FREE_TEXT names what the schema lacks: {sorted(missing)}")
