"""Validation rules whose errors are bad input values, coded BAD_USER_INPUT as PRODUCT.md (Errors) says.

Every other validation error is GRAPHQL_VALIDATION_FAILED (errors.code_of); a literal of the wrong type
or a missing required argument is the client's input, as a variable of the wrong type is.
"""

from __future__ import annotations

import functools

from graphql import (
    ASTValidationRule,
    GraphQLError,
    ProvidedRequiredArgumentsRule,
    ValuesOfCorrectTypeRule,
)

BAD_INPUT = "BAD_USER_INPUT"


class CodedValuesOfCorrectType(ValuesOfCorrectTypeRule):
    """graphql-core's rule for literal values, coding its errors BAD_USER_INPUT."""

    def report_error(self, error: GraphQLError) -> None:
        """Report `error` with the input code."""
        super().report_error(coded(error))


class CodedProvidedRequiredArguments(ProvidedRequiredArgumentsRule):
    """graphql-core's rule for required arguments, coding its errors BAD_USER_INPUT."""

    def report_error(self, error: GraphQLError) -> None:
        """Report `error` with the input code."""
        super().report_error(coded(error))


CODED: dict[type[ASTValidationRule], type[ASTValidationRule]] = {
    ValuesOfCorrectTypeRule: CodedValuesOfCorrectType,
    ProvidedRequiredArgumentsRule: CodedProvidedRequiredArguments,
}


def coded(error: GraphQLError) -> GraphQLError:
    """`error` with the input code, unless it has a code already."""
    error.extensions = {"code": BAD_INPUT, **(error.extensions or {})}
    return error


@functools.cache
def with_input_codes(rules: tuple[type[ASTValidationRule], ...]) -> tuple[type[ASTValidationRule], ...]:
    """`rules` with the input-value rules replaced by their coded versions (the same classes each time)."""
    return tuple(CODED.get(rule, rule) for rule in rules)

