"""Trusted documents (GraphQL over HTTP, Appendix A) from an Apollo persisted-query manifest, and the
trusted-only mode with its ad-hoc roles."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.core.settings import Settings
from tests.support.gateway import Gateway
from tests.support.hardening import ME, bearer, custom_gateway, error_of

EMAIL = "query Email { me { email } }"
NOT_IN_LIST = "PERSISTED_QUERY_NOT_IN_LIST"


def sha256(document: str) -> str:
    """The hex SHA-256 of `document`."""
    return hashlib.sha256(document.encode()).hexdigest()


def manifest(path: Path, *documents: str) -> str:
    """An Apollo persisted-query manifest of `documents` written to `path`."""
    operations = [{"id": sha256(body), "name": body.split()[1], "type": "query", "body": body}
                  for body in documents]
    path.write_text(json.dumps({"format": "apollo-persisted-query-manifest", "version": 1,
                                "operations": operations}))
    return str(path)


@pytest.fixture
def trusted(settings: Settings, tmp_path: Path) -> Settings:
    """The test's settings with a manifest trusting ME."""
    return settings.model_copy(update={"trusted_documents_file": manifest(tmp_path / "manifest.json", ME)})


async def post(gateway: Gateway, body: dict[str, Any], role: str = "SELLER") -> httpx.Response:
    """POST `body` as a caller holding `role`."""
    return await gateway.client.post("/graphql", json=body, headers=bearer(gateway.token("a@x.test", role)))


async def test_a_document_id_runs_the_trusted_document_over_post_and_get(trusted: Settings) -> None:
    async with custom_gateway(trusted) as gateway:
        by_post = await post(gateway, {"documentId": f"sha256:{sha256(ME)}"})
        by_get = await gateway.client.get("/graphql", params={"documentId": f"sha256:{sha256(ME)}"},
                                          headers=bearer(gateway.token("a@x.test", "SELLER")))
    assert by_post.status_code == 200 and by_post.json()["data"]["me"]["id"]
    assert by_get.json() == by_post.json()


async def test_an_unknown_document_id_is_persisted_query_not_found(trusted: Settings) -> None:
    async with custom_gateway(trusted) as gateway:
        response = await post(gateway, {"documentId": f"sha256:{sha256(EMAIL)}"})
    assert error_of(response) == (200, "PERSISTED_QUERY_NOT_FOUND", "PersistedQueryNotFound")


@pytest.mark.parametrize("document_id", [sha256(ME), "md5:abc", f"sha256:{sha256(ME).upper()}", 42])
async def test_a_malformed_document_id_is_a_bad_request(trusted: Settings, document_id: Any) -> None:
    async with custom_gateway(trusted) as gateway:
        response = await post(gateway, {"documentId": document_id})
    assert error_of(response)[:2] == (400, "BAD_REQUEST")


async def test_an_apq_hash_of_a_trusted_document_runs_it(trusted: Settings) -> None:
    async with custom_gateway(trusted) as gateway:
        hashed = {"persistedQuery": {"version": 1, "sha256Hash": sha256(ME)}}
        response = await post(gateway, {"extensions": hashed})
    assert response.json()["data"]["me"]["id"]


async def test_trusted_only_refuses_other_documents_to_most_roles(trusted: Settings) -> None:
    async with custom_gateway(trusted, trusted_documents_only=True) as gateway:
        refused = await post(gateway, {"query": EMAIL})
        registering = await post(gateway, {"query": EMAIL, "extensions": {
            "persistedQuery": {"version": 1, "sha256Hash": sha256(EMAIL)}}})
        by_id = await post(gateway, {"documentId": f"sha256:{sha256(ME)}"})
        full_text = await post(gateway, {"query": ME})
    assert error_of(refused)[:2] == error_of(registering)[:2] == (200, NOT_IN_LIST)
    assert "data" not in refused.json()
    assert by_id.json()["data"]["me"]["id"] and full_text.json() == by_id.json()


@pytest.mark.parametrize("role", ["ANALYST", "ADMIN"])
async def test_trusted_only_lets_the_adhoc_roles_run_any_document(trusted: Settings, role: str) -> None:
    async with custom_gateway(trusted, trusted_documents_only=True) as gateway:
        response = await post(gateway, {"query": EMAIL}, role)
    assert response.json() == {"data": {"me": {"email": "a@x.test"}}}


async def test_a_registered_query_is_not_trusted_for_other_roles(trusted: Settings) -> None:
    async with custom_gateway(trusted, trusted_documents_only=True) as gateway:
        hashed = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha256(EMAIL)}}}
        assert "errors" not in (await post(gateway, {"query": EMAIL, **hashed}, "ANALYST")).json()
        assert error_of(await post(gateway, hashed, "SELLER"))[:2] == (200, NOT_IN_LIST)
        assert "errors" not in (await post(gateway, hashed, "ANALYST")).json()


async def test_the_adhoc_roles_are_a_setting(trusted: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEAL_DESK_ADHOC_ROLES", "seller")
    roles = Settings(_env_file=None).adhoc_roles  # type: ignore[call-arg]
    async with custom_gateway(trusted, trusted_documents_only=True, adhoc_roles=roles) as gateway:
        seller = await post(gateway, {"query": EMAIL}, "SELLER")
        analyst = await post(gateway, {"query": EMAIL}, "ANALYST")
    assert "errors" not in seller.json()
    assert error_of(analyst)[:2] == (200, NOT_IN_LIST)


@pytest.mark.parametrize("content", [
    "not json",
    json.dumps({"format": "apollo-persisted-query-manifest", "version": 2, "operations": []}),
    json.dumps({"format": "apollo-persisted-query-manifest", "version": 1,
                "operations": [{"id": "0" * 64, "name": "Me", "type": "query", "body": ME}]}),
    json.dumps({"format": "apollo-persisted-query-manifest", "version": 1, "operations": []}),
])
def test_a_bad_manifest_stops_start_up(settings: Settings, tmp_path: Path, content: str) -> None:
    path = tmp_path / "manifest.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=str(path)):
        create_app(settings.model_copy(update={"trusted_documents_file": str(path)}))
