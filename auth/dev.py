"""Dev auth: the gateway signs and accepts its own ES256 tokens (no identity provider)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey
from joserfc.jwt import JWTClaimsRegistry

from auth.claims import to_claims
from auth.errors import AuthenticationError
from auth.principal import Claims
from gateway.core.roles import Role
from gateway.core.settings import Settings

DEV_ISSUER = "deal-desk-dev"
ALGORITHM = "ES256"


def load_or_create_key(path: Path) -> ECKey:
    """The dev signing key at `path`, created (mode 0600) on first use."""
    if path.exists():
        return ECKey.import_key(json.loads(path.read_text()))
    key = ECKey.generate_key("P-256", parameters={"kid": "dev-1"}, private=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(key.as_dict(private=True), handle)
    return key


def subject(email: str) -> str:
    """The `sub` of dev tokens for `email`."""
    return f"dev|{email.lower()}"


def issue_token(
    settings: Settings, *, email: str, roles: list[Role], region: str | None = None,
    name: str | None = None, lifetime_s: int = 12 * 3600,
) -> str:
    """A dev token for `email` whose groups map to `roles` through the configured role map."""
    groups_by_role = {role: group for group, role in settings.auth_role_map.items()}
    now = int(time.time())
    claims: dict[str, object] = {
        "iss": DEV_ISSUER, "aud": settings.auth_audience, "sub": subject(email),
        "email": email, "name": name or email.split("@")[0], "iat": now, "nbf": now,
        "exp": now + lifetime_s,
        settings.auth_groups_claim: [groups_by_role[r.value] for r in roles],
    }
    if region:
        claims[settings.auth_region_claim] = region
    key = load_or_create_key(settings.dev_key_path)
    return jwt.encode({"alg": ALGORITHM, "kid": key.kid}, claims, key, algorithms=[ALGORITHM])


class DevAuthenticator:
    """Verifies tokens signed with the local dev key."""

    def __init__(self, settings: Settings) -> None:
        if settings.is_production:
            raise RuntimeError("dev auth refuses to run with DEAL_DESK_ENV=production; "
                               "set DEAL_DESK_AUTH_ISSUER to your Okta issuer")
        self.settings = settings
        self.key = load_or_create_key(settings.dev_key_path)
        self.registry = JWTClaimsRegistry(
            leeway=60, iss={"essential": True, "value": DEV_ISSUER},
            aud={"essential": True, "value": settings.auth_audience},
            exp={"essential": True}, sub={"essential": True},
        )

    async def verify(self, token: str) -> Claims:
        """Claims of a valid dev token."""
        try:
            decoded = jwt.decode(token, self.key, algorithms=[ALGORITHM])
            self.registry.validate(decoded.claims)
        except (JoseError, ValueError) as error:
            raise AuthenticationError("invalid token") from error
        return to_claims(decoded.claims, self.settings)

    async def aclose(self) -> None:
        """Nothing to release."""
