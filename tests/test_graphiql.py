"""GraphiQL served whole by the gateway, driven in headless Chromium with every other host blocked."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.core.settings import Settings
from gateway.http import graphiql
from tests.support.data import Data
from tests.support.hardening import custom_gateway, error_of
from tests.support.node import ROOT, node_client
from tests.support.server import Server, serving
from tests.test_subscriptions import event, publish, token, wait_for_subscribers

PAGE = {"accept": "text/html"}


@pytest.fixture
def server(settings: Settings) -> Iterator[Server]:
    """The app served by uvicorn on an ephemeral port."""
    with serving(create_app(settings)) as running:
        yield running


def chromium() -> str:
    """Debian's chromium; missing, the test fails (scripts/setup installs it)."""
    found = shutil.which("chromium")
    assert found, "chromium is not installed: run scripts/setup (as root it installs Debian's chromium)"
    return found


async def test_graphiql_loads_queries_and_subscribes_with_no_host_but_the_gateway(
        server: Server, settings: Settings) -> None:
    chromium()
    data = Data(server.app.state.db.engine)
    desk = data.user("desk@x.test", "DEAL_DESK")
    deal = data.deal(owner=desk, advertiser=data.advertiser("Acme"), name="Seen in GraphiQL",
                     deal_number="DD-1999-000001")
    lines: list[dict[str, Any]] = []
    async with node_client("graphiql.mjs", {"url": f"{server.url}/graphql",
                                            "token": token(settings, "desk@x.test", "DEAL_DESK")},
                           ) as browser:
        while not lines or "done" not in lines[-1]:
            lines.append(await browser.line(timeout=60))
            if "subscribed" in lines[-1]:
                await wait_for_subscribers(server, 1)
                await publish(server, event("SUBMITTED", deal, desk))
    found = {key: line[key] for line in lines for key in line}
    assert found["problems"] == [] and found["blocked"] == []
    assert "deal-desk token" in found["loaded"]
    assert found["schema"] is True
    assert found["query"] == {"data": {"me": {"email": "desk@x.test"}}}
    assert found["event"]["data"]["dealEvents"] == {"kind": "SUBMITTED", "deal": {"name": "Seen in GraphiQL"}}
    assert 401 not in found["statuses"]  # no UNAUTHENTICATED on load: nothing is sent before a token


def test_the_cdn_versions_are_the_installed_packages() -> None:
    lock = json.loads((ROOT / "package-lock.json").read_text())
    installed = {name: lock["packages"][f"node_modules/{name}"]["version"] for name in graphiql.PACKAGES}
    assert installed == graphiql.PACKAGES


async def test_every_asset_the_page_names_is_served(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        page = await client.get("/graphql", headers=PAGE)
        names = [*graphiql.ASSETS, *graphiql.OWN]
        served = {name: await client.get(f"/graphiql/{name}") for name in names}
        missing = await client.get("/graphiql/package.json")
    assert all(f'"/graphiql/{name}"' in page.text for name in names)
    assert {name: r.status_code for name, r in served.items()} == dict.fromkeys(names, 200)
    assert served["app.js"].headers["content-type"].startswith("text/javascript")
    assert error_of(missing) == (404, "NOT_FOUND", "Not Found")


async def test_without_the_npm_packages_the_page_loads_them_from_the_cdn_and_says_so(
        settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async with custom_gateway(settings, graphiql_assets_dir=str(tmp_path)) as gateway:
        page = await gateway.client.get("/graphql", headers=PAGE)
        asset = await gateway.client.get("/graphiql/graphiql.min.js")
    assert "https://unpkg.com/graphiql@3.8.3/graphiql.min.js" in page.text
    assert "script-src 'self' https://unpkg.com;" in page.headers["content-security-policy"]
    assert asset.status_code == 404
    assert any("GraphiQL's npm packages are not in" in r.getMessage() and r.levelno == logging.WARNING
               for r in caplog.records)


async def test_with_graphiql_off_no_asset_is_served(settings: Settings) -> None:
    async with custom_gateway(settings, graphiql=False) as gateway:
        assert (await gateway.client.get("/graphiql/app.js")).status_code == 404


async def test_with_okta_the_page_does_not_offer_dev_tokens(settings: Settings) -> None:
    page = graphiql.graphiql_for(settings.model_copy(update={"auth_issuer": "https://okta.example/oauth2/x"}))
    assert "deal-desk token" not in page.html and "Okta access token" in page.html
