"""Validation is cached by query text: a repeated document is validated once and refused every time."""

from __future__ import annotations

from typing import Any

import pytest

from resolvers.extensions import validation_cache
from tests.support.gateway import Gateway

ME = "{ me { id } }"
UNKNOWN_FIELD = "{ me { id nope } }"


@pytest.fixture
def validations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each document the cache had to validate, from an empty cache."""
    seen: list[str] = []
    validate = validation_cache.validate_document

    def counting(schema: Any, document: Any, rules: Any) -> Any:
        seen.append(document.loc.source.body)
        return validate(schema, document, rules)

    monkeypatch.setattr(validation_cache, "validate_document", counting)
    monkeypatch.setattr(validation_cache, "_RESULTS", {})
    return seen


async def test_a_repeated_query_text_is_validated_once(gateway: Gateway, validations: list[str]) -> None:
    gateway.data.user("desk@x.test", "DEAL_DESK")
    token = gateway.token("desk@x.test", "DEAL_DESK")

    for _ in range(3):
        await gateway.data_of(ME, token=token)

    assert validations == [ME]


async def test_an_invalid_document_is_refused_every_time(gateway: Gateway, validations: list[str]) -> None:
    token = gateway.token("desk@x.test", "DEAL_DESK")

    responses = [await gateway.post(UNKNOWN_FIELD, token=token) for _ in range(2)]

    assert [r.status_code for r in responses] == [200, 200]
    assert all(r.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED" for r in responses)
    assert validations == [UNKNOWN_FIELD]
