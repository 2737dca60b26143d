"""Query limits from the settings: aliases, tokens, estimated cost, and introspection on or off."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

from graphql import ASTValidationRule
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    SchemaExtension,
)

from gateway.core.settings import Settings
from resolvers.extensions.query_cost import CostModel, QueryCostLimiter


@dataclass(frozen=True)
class QueryLimits:
    """What one schema enforces on every operation (hashable: one schema per distinct limits)."""

    max_aliases: int = 30
    max_tokens: int = 2000
    max_cost: int = 250_000
    cost_model: CostModel = field(default_factory=CostModel)
    introspection: bool = True

    @classmethod
    def of(cls, settings: Settings) -> QueryLimits:
        """The limits the settings ask for."""
        model = CostModel(default_first=settings.page_size_default, list_size=settings.query_cost_list_size)
        return cls(max_aliases=settings.query_max_aliases, max_tokens=settings.query_max_tokens,
                   max_cost=settings.query_max_cost, cost_model=model,
                   introspection=settings.introspection_enabled)


@functools.cache
def validation_rules(limits: QueryLimits) -> tuple[type[ASTValidationRule], ...]:
    """The rule classes of `limits`, made once: the validation cache is keyed by rule classes."""
    rules = list(MaxAliasesLimiter(max_alias_count=limits.max_aliases).validation_rules)
    if not limits.introspection:
        rules += DisableIntrospection().validation_rules
    return tuple(rules)


def limit_extensions(limits: QueryLimits) -> list[Callable[[], SchemaExtension]]:
    """Extension factories enforcing `limits` (a fresh extension per request, shared rule classes)."""
    rules = list(validation_rules(limits))
    return [
        lambda: AddValidationRules(rules),
        lambda: MaxTokensLimiter(max_token_count=limits.max_tokens),
        lambda: QueryCostLimiter(limit=limits.max_cost, model=limits.cost_model),
    ]
