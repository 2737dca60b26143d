"""The GraphiQL page, served whole by the gateway: React and GraphiQL from npm, installed by scripts/setup.

The page, its script and its style are ours (graphiql_static/); React, ReactDOM and GraphiQL's bundle
(which carries its fonts as data: URLs and the graphql-ws client) are served from the npm packages of
package.json, so the page works with no host but the gateway, under a CSP of 'self'. Where they were
not installed (no npm), the page loads them from a CDN, and a log line says so.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response

from gateway.core.errors import NotFound
from gateway.core.settings import Settings
from gateway.http.replies import error_response

log = logging.getLogger("deal_desk.graphiql")

STATIC = Path(__file__).with_name("graphiql_static")
NODE_MODULES = Path(__file__).resolve().parents[2] / "node_modules"  # a checkout's `npm ci`
# The packages of package.json (tests/test_graphiql.py checks that these versions are the ones installed).
PACKAGES = {"react": "18.2.0", "react-dom": "18.2.0", "graphiql": "3.8.3"}
ASSETS = {  # served name: (package, file in the package)
    "react.production.min.js": ("react", "umd/react.production.min.js"),
    "react-dom.production.min.js": ("react-dom", "umd/react-dom.production.min.js"),
    "graphiql.min.js": ("graphiql", "graphiql.min.js"),
    "graphiql.min.css": ("graphiql", "graphiql.min.css"),
}
OWN = {"app.js": "text/javascript", "page.css": "text/css"}
CDN = "https://unpkg.com"
CACHE = "public, max-age=3600"
DEV_HINT = ("With dev auth, make one with <code>.venv/bin/deal-desk token --email admin@dealdesk.example "
            "--role ADMIN</code> (<code>scripts/demo</code> prints some).")
OKTA_HINT = "Use an Okta access token issued for this API."


@dataclass(frozen=True)
class GraphiQL:
    """The page, its Content-Security-Policy, and where its npm assets are (None: from the CDN)."""

    html: str
    csp: str
    assets: Path | None

    async def asset(self, request: Request) -> Response:
        """GET /graphiql/{name}: one of the page's files."""
        name = request.path_params["name"]
        if name in OWN:
            return FileResponse(STATIC / name, media_type=OWN[name], headers={"cache-control": CACHE})
        if self.assets is None or name not in ASSETS:
            return error_response(404, NotFound("Not Found"))
        package, file = ASSETS[name]
        return FileResponse(self.assets / package / file, headers={"cache-control": CACHE})


def graphiql_for(settings: Settings) -> GraphiQL:
    """The page for `settings`: assets from the gateway when installed, else from the CDN (logged)."""
    folder = Path(settings.graphiql_assets_dir) if settings.graphiql_assets_dir else NODE_MODULES
    assets = folder if installed(folder) else None
    if assets is None and settings.graphiql_enabled:
        log.warning("GraphiQL's npm packages are not in %s (scripts/setup installs them with npm): "
                    "the GraphiQL page loads React and GraphiQL from %s", folder, CDN)
    url = {name: asset_url(name, assets) for name in ASSETS}
    html = (STATIC / "page.html").read_text(encoding="utf-8").format(
        react=url["react.production.min.js"], react_dom=url["react-dom.production.min.js"],
        graphiql_js=url["graphiql.min.js"], graphiql_css=url["graphiql.min.css"],
        token_hint=OKTA_HINT if settings.auth_issuer else DEV_HINT)
    return GraphiQL(html=html, csp=policy(cdn=assets is None), assets=assets)


def installed(folder: Path) -> bool:
    """True when `folder` holds every asset of the packages' expected versions."""
    return all((folder / package / file).is_file() for package, file in ASSETS.values())


def asset_url(name: str, assets: Path | None) -> str:
    """Where the page loads asset `name` from."""
    if assets is not None:
        return f"/graphiql/{name}"
    package, file = ASSETS[name]
    return f"{CDN}/{package}@{PACKAGES[package]}/{file}"


def policy(*, cdn: bool) -> str:
    """The page's Content-Security-Policy: 'self' only, plus the CDN when the assets come from there."""
    sources = f"'self' {CDN}" if cdn else "'self'"
    return "; ".join([
        "default-src 'none'",
        f"script-src {sources}",
        f"style-src {sources} 'unsafe-inline'",  # React and GraphiQL set style attributes
        "font-src 'self' data:",  # GraphiQL's fonts are data: URLs in its stylesheet
        "img-src 'self' data:",
        "connect-src 'self'",  # the page's own /graphql, over HTTP and WebSocket
        "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
    ])
