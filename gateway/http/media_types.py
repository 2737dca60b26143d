"""The response media type a GraphQL-over-HTTP client asks for in its Accept header."""

from __future__ import annotations

JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"
CONTENT_TYPES = {JSON: "application/json", GRAPHQL_RESPONSE: f"{GRAPHQL_RESPONSE}; charset=utf-8"}


def negotiate(accept: str | None) -> str:
    """GRAPHQL_RESPONSE when the client prefers it to JSON; JSON otherwise (also for */* or no Accept)."""
    weights = accepted(accept or "")
    preferred = weights.get(GRAPHQL_RESPONSE, 0.0)
    return GRAPHQL_RESPONSE if preferred > 0 and preferred >= weights.get(JSON, 0.0) else JSON


def accepted(accept: str) -> dict[str, float]:
    """Each media range of an Accept header with its quality (RFC 9110, 12.5.1)."""
    weights: dict[str, float] = {}
    for part in accept.split(","):
        media_range, *parameters = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                quality = _quality(value)
        if media_range:
            weights[media_range.lower()] = max(weights.get(media_range.lower(), 0.0), quality)
    return weights


def _quality(value: str) -> float:
    try:
        return min(max(float(value.strip()), 0.0), 1.0)
    except ValueError:
        return 0.0
