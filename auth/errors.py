"""Why a request could not be authenticated."""


class AuthenticationError(Exception):
    """The bearer token is missing or invalid: HTTP 401, UNAUTHENTICATED."""


class AuthUnavailable(Exception):
    """The token cannot be checked now (no signing keys reachable): HTTP 503."""
