"""Security headers on every HTTP response, and the CORS allow-list."""

from __future__ import annotations

import base64
import functools
import hashlib
import re

from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.http.ides import get_graphql_ide_html

from gateway.core.settings import Settings

COMMON = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}
API_CSP = "default-src 'none'; frame-ancestors 'none'"
HSTS = "max-age=31536000; includeSubDomains"
INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)
UNPKG = "https://unpkg.com"  # where Strawberry's GraphiQL page loads React, GraphiQL and their styles


@functools.cache
def graphiql_csp() -> str:
    """The GraphiQL page's policy: its scripts from unpkg plus its inline script, by hash."""
    html = get_graphql_ide_html("graphiql")
    hashes = " ".join(f"'sha256-{_sha256(script)}'" for script in INLINE_SCRIPT.findall(html))
    return "; ".join([
        "default-src 'none'",
        f"script-src {UNPKG} {hashes}",
        # GraphiQL's stylesheet imports its fonts from Google Fonts; React sets inline styles.
        f"style-src {UNPKG} https://fonts.googleapis.com 'unsafe-inline'",
        f"font-src {UNPKG} https://fonts.gstatic.com data:",
        "img-src 'self' data:",
        "connect-src 'self'",  # the page's own /graphql, over HTTP and WebSocket
        "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
    ])


def _sha256(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def headers_for(content_type: str, *, hsts: bool) -> dict[str, str]:
    """The security headers of a response of `content_type` (HTML is only ever the GraphiQL page)."""
    csp = graphiql_csp() if content_type.startswith("text/html") else API_CSP
    headers = {**COMMON, "content-security-policy": csp}
    if hsts:
        headers["strict-transport-security"] = HSTS
    return headers


class SecurityHeadersMiddleware:
    """Adds the security headers to every HTTP response that does not set them itself."""

    def __init__(self, app: ASGIApp, *, hsts: bool = False) -> None:
        self.app, self.hsts = app, hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in headers_for(headers.get("content-type", ""), hsts=self.hsts).items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def cors(settings: Settings) -> list[Middleware]:
    """Starlette's CORS middleware for the configured origins; none (no cross-origin use) by default."""
    if not settings.cors_origins:
        return []
    return [Middleware(
        CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST"],
        allow_headers=["authorization", "content-type", "idempotency-key", "x-request-id"],
        expose_headers=["x-request-id", "retry-after", "idempotent-replayed"], max_age=600,
    )]
