"""Query limits: aliases, tokens, depth and estimated cost refused with BAD_USER_INPUT, real pages allowed."""

from __future__ import annotations

from bench.operations import DEAL_LIST
from gateway.core.settings import Settings
from tests.support.gateway import Gateway
from tests.support.hardening import custom_gateway, error_of, ids, nested
from tests.test_deal import DEAL_PAGE, LIST_PAGE, approved_deal, cast

NESTED_PAGES = """
query Nested($outer: Int, $inner: Int) {
  deals(first: $outer) { edges { node { advertiser { deals(first: $inner) { edges { node { id } } } } } } }
}
"""


def desk(gateway: Gateway) -> str:
    """A DEAL_DESK token."""
    return gateway.token("desk@x.test", "DEAL_DESK", region="NA")


async def test_the_full_deal_page_is_allowed(gateway: Gateway) -> None:
    deal = approved_deal(gateway.data, **cast(gateway.data))
    data = await gateway.data_of(DEAL_PAGE, {"id": deal}, token=desk(gateway))
    assert data["deal"]["id"] == deal and len(data["deal"]["approvals"]) == 2


async def test_a_500_deal_export_with_every_nested_list_is_allowed(gateway: Gateway) -> None:
    data = await gateway.data_of(LIST_PAGE, {"first": 500}, token=desk(gateway))
    assert data["deals"]["totalCount"] == 0


async def test_the_benchmarked_export_shape_is_allowed(gateway: Gateway) -> None:
    await gateway.data_of(DEAL_LIST, {"first": 500}, token=desk(gateway))


async def test_nested_pages_over_the_budget_are_refused_naming_cost_and_limit(gateway: Gateway) -> None:
    response = await gateway.post(NESTED_PAGES, {"outer": 500, "inner": 500}, token=desk(gateway))
    # deals 1 + edges (1 + 500 x node (1 + advertiser (1 + deals 1 + edges (1 + 500 x (node 1 + id 1)))))
    assert error_of(response) == (200, "GRAPHQL_VALIDATION_FAILED",
                                  "Query cost 502002 exceeds the limit of 250000: "
                                  "ask for smaller pages or fewer nested lists.")
    assert response.json()["errors"][0]["extensions"] == {"code": "GRAPHQL_VALIDATION_FAILED",
                                                          "cost": 502002, "limit": 250000}
    assert "data" not in response.json()


async def test_the_cost_follows_the_variables(gateway: Gateway) -> None:
    await gateway.data_of(NESTED_PAGES, {"outer": 50, "inner": 50}, token=desk(gateway))


async def test_a_missing_first_counts_as_the_default_page(gateway: Gateway) -> None:
    response = await gateway.post(NESTED_PAGES, {"outer": 5000}, token=desk(gateway))
    assert "Query cost 520002 exceeds" in error_of(response)[2]  # 2 + 5000 x (4 + 50 x 2): inner page 50


async def test_the_budget_is_a_setting(settings: Settings) -> None:
    async with custom_gateway(settings, query_max_cost=100) as gateway:
        response = await gateway.post(DEAL_PAGE, {"id": "01900000-0000-7000-8000-000000000000"},
                                      token=desk(gateway))
    assert error_of(response) == (200, "GRAPHQL_VALIDATION_FAILED",
                                  "Query cost 361 exceeds the limit of 100: "
                                  "ask for smaller pages or fewer nested lists.")


async def test_too_many_aliases_are_refused(gateway: Gateway) -> None:
    document = "{ " + " ".join(f"a{n}: me {{ id }}" for n in range(31)) + " }"
    response = await gateway.post(document, token=desk(gateway))
    assert error_of(response) == (200, "GRAPHQL_VALIDATION_FAILED", "31 aliases found. Allowed: 30")


async def test_thirty_aliases_are_allowed(gateway: Gateway) -> None:
    document = "{ " + " ".join(f"a{n}: me {{ id }}" for n in range(30)) + " }"
    assert len(await gateway.data_of(document, token=desk(gateway))) == 30


async def test_a_document_over_the_token_limit_is_refused(gateway: Gateway) -> None:
    response = await gateway.post(f"{{ me {{ {ids(2000)} }} }}", token=desk(gateway))
    assert error_of(response) == (200, "GRAPHQL_VALIDATION_FAILED",
                                  "Syntax Error: Document contains more than 2000 tokens. Parsing aborted.")


async def test_a_document_nested_past_the_depth_limit_is_refused(gateway: Gateway) -> None:
    response = await gateway.post(nested(6), token=desk(gateway))
    assert error_of(response) == (200, "GRAPHQL_VALIDATION_FAILED",
                                  "'anonymous' exceeds maximum operation depth of 12")


async def test_limits_come_from_the_settings(settings: Settings) -> None:
    async with custom_gateway(settings, query_max_aliases=2, query_max_tokens=25) as gateway:
        token = desk(gateway)
        aliases = await gateway.post("{ a: me { id } b: me { id } c: me { id } }", token=token)
        tokens = await gateway.post(f"{{ me {{ {ids(25)} }} }}", token=token)
    assert error_of(aliases) == (200, "GRAPHQL_VALIDATION_FAILED", "3 aliases found. Allowed: 2")
    assert error_of(tokens) == (200, "GRAPHQL_VALIDATION_FAILED",
                                "Syntax Error: Document contains more than 25 tokens. Parsing aborted.")
