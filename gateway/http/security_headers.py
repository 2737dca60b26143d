"""Security headers on every HTTP response, and the CORS allow-list."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.core.settings import Settings

COMMON = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}
API_CSP = "default-src 'none'; frame-ancestors 'none'"
HSTS = "max-age=31536000; includeSubDomains"


def headers_for(content_type: str, *, hsts: bool, page_csp: str) -> dict[str, str]:
    """The security headers of a response of `content_type` (HTML is only ever the GraphiQL page)."""
    csp = page_csp if content_type.startswith("text/html") else API_CSP
    headers = {**COMMON, "content-security-policy": csp}
    if hsts:
        headers["strict-transport-security"] = HSTS
    return headers


class SecurityHeadersMiddleware:
    """Adds the security headers to every HTTP response that does not set them itself."""

    def __init__(self, app: ASGIApp, *, hsts: bool = False, page_csp: str = API_CSP) -> None:
        self.app, self.hsts, self.page_csp = app, hsts, page_csp

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in headers_for(headers.get("content-type", ""), hsts=self.hsts,
                                              page_csp=self.page_csp).items():
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
