"""The one interface every token verifier implements."""

from __future__ import annotations

from typing import Protocol

from auth.principal import Claims


class Authenticator(Protocol):
    """Turns a bearer token into verified Claims."""

    async def verify(self, token: str) -> Claims:
        """Verified claims, or AuthenticationError (401) / AuthUnavailable (503)."""
        ...

    async def aclose(self) -> None:
        """Release what the verifier holds (HTTP clients, caches)."""
        ...
