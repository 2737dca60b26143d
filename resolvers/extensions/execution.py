"""Execution with a short path for plain leaf fields: most of a deal page's 650 fields only read an attribute.

For every field graphql-core makes a response path, builds a resolve info, collects the field's nodes and
dispatches on the return type, and Strawberry adds two calls to reach the attribute. A scalar or enum
field without resolver, arguments or field extensions needs none of that: it reads the attribute and
coerces the value. Every other field (objects, lists, resolvers, permission classes), and any leaf whose
value is null or fails to coerce, takes graphql-core's own path, so results and errors are the same.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, NamedTuple
from weakref import WeakKeyDictionary, WeakMethod

from graphql import (
    GraphQLLeafType,
    GraphQLObjectType,
    GraphQLResolveInfoHelpers,
    GraphQLSchema,
    is_leaf_type,
    is_non_null_type,
)
from graphql.execution.collect_fields import GroupedFieldSet
from graphql.execution.middleware import MiddlewareManager
from graphql.pyutils import Path, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField


class Leaf(NamedTuple):
    """A plain leaf field: the scalar or enum it returns and how to read it."""

    leaf_type: GraphQLLeafType
    read: Callable[[Any, str], object]
    attribute: str


Plans = dict[tuple[str, str], Leaf | None]
_PLANS: WeakKeyDictionary[GraphQLSchema, Plans] = WeakKeyDictionary()  # per schema: (type, field) -> plan
SKIP = object()  # a leaf the short path leaves to graphql-core


class Executor(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context, completing plain leaf fields directly."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.direct = not wraps_resolvers(self.middleware_manager)
        self.plans = _PLANS.setdefault(self.schema, {})
        self.async_helpers = weak_helpers(self)

    def execute_fields(self, parent_type: GraphQLObjectType, source: Any, path: Path | None,
                       grouped_field_set: GroupedFieldSet, position_context: Any) -> Any:
        if not self.direct:
            return super().execute_fields(parent_type, source, path, grouped_field_set, position_context)
        done: dict[str, Any] = {}
        rest: GroupedFieldSet = {}
        for name, field_details_list in grouped_field_set.items():
            value = self._leaf_value(parent_type, source, field_details_list[0].node)
            if value is SKIP:
                rest[name] = field_details_list
            else:
                done[name] = value
        if not rest:
            return done
        others = super().execute_fields(parent_type, source, path, rest, position_context)
        if not isinstance(others, dict):  # awaitable: some field resolves asynchronously
            return _in_order(grouped_field_set, done, others)
        return {name: done[name] if name in done else others[name] for name in grouped_field_set}

    def _leaf_value(self, parent_type: GraphQLObjectType, source: Any, node: Any) -> Any:
        leaf = None if node.arguments else self._leaf(parent_type, node.name.value)
        if leaf is None:
            return SKIP
        try:
            value = leaf.read(source, leaf.attribute)
            if value is None or isinstance(value, Exception) or self.is_awaitable(value):
                return SKIP  # null checks, raised errors and awaitables: graphql-core's path
            return self.complete_leaf_value(leaf.leaf_type, value)
        except Exception:
            return SKIP  # graphql-core's path raises it again, located at the field's path

    def _leaf(self, parent_type: GraphQLObjectType, name: str) -> Leaf | None:
        key = (parent_type.name, name)
        if key not in self.plans:
            self.plans[key] = plan(self.schema, parent_type, name)
        return self.plans[key]


def weak_helpers(executor: Executor) -> GraphQLResolveInfoHelpers:
    """graphql-core's resolver helpers without a reference back to the executor.

    Its own are the executor's bound methods, kept on the executor: a reference cycle that holds the
    request's context, loaders and rows until a full collection, about 500 objects per deal page.
    """
    track = WeakMethod(executor.track_async_work)

    def track_async_work(values: Sequence[Any]) -> None:
        method = track()
        if method is not None:  # always, while the executor runs
            method(values)

    def gather_async_work(values: Sequence[Awaitable[Any]]) -> Awaitable[list[Any]]:
        return gather_with_cancel(*values)

    return GraphQLResolveInfoHelpers(gather=gather_async_work, track=track_async_work)


async def _in_order(names: GroupedFieldSet, done: dict[str, Any], others: Awaitable[dict[str, Any]],
                    ) -> dict[str, Any]:
    """Both parts of an object's fields, in the order the query asked for them."""
    awaited = await others
    return {name: done[name] if name in done else awaited[name] for name in names}


def wraps_resolvers(manager: MiddlewareManager | None) -> bool:
    """True when middleware (a schema extension's `resolve` hook) wraps every resolver."""
    # Strawberry always passes a manager; it wraps nothing when no extension implements `resolve`.
    return manager is not None and getattr(manager, "_middleware_resolvers", True) is not None


def plan(schema: GraphQLSchema, parent_type: GraphQLObjectType, name: str) -> Leaf | None:
    """How to complete `parent_type.name` directly, or None when it needs graphql-core's full path."""
    field = schema.get_field(parent_type, name)
    definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF) if field else None
    if field is None or field.args or not isinstance(definition, StrawberryField):
        return None
    if not definition.is_basic_field:  # a resolver or field extensions (permission classes)
        return None
    inner = field.type.of_type if is_non_null_type(field.type) else field.type
    return Leaf(inner, definition.default_resolver, definition.python_name) if is_leaf_type(inner) else None
