"""The HTTP edge: ASGI middleware (request ids, access log, headers, limits, authentication, idempotency),
health endpoints and the WebSocket transport."""
