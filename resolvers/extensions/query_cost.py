"""Cost estimate of an operation, refused above a budget before anything is resolved.

Every field costs 1, times the length of the lists it sits in: a connection's page is its `first`
(the default page size when not given), any other list of objects counts `list_size` items.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    get_operation_ast,
    is_list_type,
    value_from_ast_untyped,
)
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"  # a limit exceeded, as for depth and aliases


@dataclass(frozen=True)
class CostModel:
    """How many items a list is assumed to hold."""

    default_first: int = 50  # a connection asked without `first` gets the default page
    list_size: int = 5  # a list without `first` (approvals, tiers, actions): bounded by data, not the client


@dataclass
class Estimate:
    """The cost of one operation given its variables; fragment costs are memoised, so it stays linear."""

    fragments: Mapping[str, FragmentDefinitionNode]
    variables: Mapping[str, Any]
    model: CostModel
    schema: GraphQLSchema
    memo: dict[tuple[str, int | None], int] = field(default_factory=dict)

    def selections(self, selection_set: SelectionSetNode, parent: GraphQLNamedType | None,
                   page: int | None) -> int:
        """Cost of a selection set on `parent`; `page` is the `first` of the connection it belongs to."""
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field_cost(selection, parent, page)
            elif isinstance(selection, InlineFragmentNode):
                total += self.selections(selection.selection_set, self.condition(selection, parent), page)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.spread(selection.name.value, page)
        return total

    def field_cost(self, node: FieldNode, parent: GraphQLNamedType | None, page: int | None) -> int:
        """1 for the field, plus its selections times the items it returns."""
        definition: GraphQLField | None = getattr(parent, "fields", {}).get(node.name.value)
        if definition is None:  # __typename and introspection (which has its own switch)
            return 0
        if node.selection_set is None:
            return 1
        first = self.first(node) if "first" in definition.args else None
        child = get_named_type(definition.type)
        if not is_list_type(get_nullable_type(definition.type)):  # type: ignore[arg-type]
            return 1 + self.selections(node.selection_set, child, first)  # a connection: edges get `first`
        items = first if first is not None else page if page is not None else self.model.list_size
        return 1 + items * self.selections(node.selection_set, child, None)

    def spread(self, name: str, page: int | None) -> int:
        """Cost of a named fragment (0 when unknown: validation reports it)."""
        if (name, page) not in self.memo:
            self.memo[name, page] = 0  # a cycle (refused by validation) costs nothing more
            fragment = self.fragments.get(name)
            if fragment is not None:
                parent = self.schema.get_type(fragment.type_condition.name.value)
                self.memo[name, page] = self.selections(fragment.selection_set, parent, page)
        return self.memo[name, page]

    def condition(self, node: InlineFragmentNode, parent: GraphQLNamedType | None) -> GraphQLNamedType | None:
        """The type an inline fragment selects on."""
        if node.type_condition is None:
            return parent
        return self.schema.get_type(node.type_condition.name.value) or parent

    def first(self, node: FieldNode) -> int:
        """The field's `first` argument, literal or variable; the default page when absent or null."""
        argument = next((arg for arg in node.arguments or () if arg.name.value == "first"), None)
        if argument is None:
            return self.model.default_first
        value = argument.value
        given = (self.variables.get(value.name.value) if isinstance(value, VariableNode)
                 else value_from_ast_untyped(value))
        if isinstance(given, int) and not isinstance(given, bool):
            return max(given, 0)
        return self.model.default_first


def operation_cost(schema: GraphQLSchema, document: DocumentNode, operation_name: str | None,
                   variables: Mapping[str, Any] | None, model: CostModel) -> int:
    """The estimated cost of the operation the request runs (0 when there is none to run)."""
    operation = get_operation_ast(document, operation_name)
    root = schema.get_root_type(operation.operation) if operation else None
    if operation is None or root is None:
        return 0
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    estimate = Estimate(fragments, {**defaults_of(operation), **(variables or {})}, model, schema)
    return estimate.selections(operation.selection_set, root, None)


def defaults_of(operation: OperationDefinitionNode) -> dict[str, Any]:
    """The default values of the operation's variables."""
    return {definition.variable.name.value: value_from_ast_untyped(definition.default_value)
            for definition in operation.variable_definitions or () if definition.default_value is not None}


def too_costly(cost: int, limit: int) -> GraphQLError:
    """The error of an operation over the budget."""
    message = f"Query cost {cost} exceeds the limit of {limit}: ask for smaller pages or fewer nested lists."
    return GraphQLError(message, extensions={"code": VALIDATION_FAILED, "cost": cost, "limit": limit})


class QueryCostLimiter(SchemaExtension):
    """Refuses queries and mutations whose estimated cost is above `limit`."""

    def __init__(self, *, limit: int, model: CostModel) -> None:
        self.limit, self.model = limit, model

    def on_execute(self) -> Iterator[None]:
        cost = self._cost()
        if cost > self.limit:  # a result set here is returned instead of executing
            self.execution_context.result = ExecutionResult(None, [too_costly(cost, self.limit)])
        yield

    def _cost(self) -> int:
        """The operation's cost; 0 for subscriptions (one small event at a time)."""
        context = self.execution_context
        if context.graphql_document is None or context.operation_type == OperationType.SUBSCRIPTION:
            return 0
        return operation_cost(context.schema._schema, context.graphql_document, context.operation_name,
                              context.variables, self.model)
