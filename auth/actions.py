"""TEMPORARY placeholder until the policy table lands."""
from auth.principal import Principal, Role
from gateway.errors import Forbidden

def require(principal: Principal, action: str, *, owner_id: str | None = None) -> None:
    if not principal.roles or principal.has_any(Role.ANALYST, Role.LEGAL):
        raise Forbidden("not allowed")
