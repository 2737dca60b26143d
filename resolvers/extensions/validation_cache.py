"""Validation results cached by query text, so a repeated document is not hashed node by node.

The rules are those of the request, with the input-value rules coding their errors (input_rules.py).

Strawberry's ValidationCache keys its LRU cache by the parsed document, and graphql-core hashes a
document by walking every node: about 1% of a deal page's CPU. The text names the same document
(the parser cache turns one text into one document), and a string hashes once.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from resolvers.extensions.input_rules import with_input_codes

MAX_ENTRIES = 128  # distinct (schema, text, rules); past this the cache starts again empty

_RESULTS: dict[tuple[Any, str, tuple[Any, ...]], list[GraphQLError]] = {}


class ValidationByText(SchemaExtension):
    """Validates each distinct query text once per schema and rule set."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        schema, document = context.schema._schema, context.graphql_document
        assert document is not None  # validation runs on a parsed document
        rules = with_input_codes(context.validation_rules)
        if context.query is None:  # a document without its text: validate it as it is
            context.pre_execution_errors = validate_document(schema, document, rules)
            yield
            return
        key = (schema, context.query, rules)
        errors = _RESULTS.get(key)
        if errors is None:
            if len(_RESULTS) >= MAX_ENTRIES:
                _RESULTS.clear()
            errors = _RESULTS[key] = validate_document(schema, document, rules)
        context.pre_execution_errors = errors
        yield
