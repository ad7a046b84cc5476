"""Request authentication: ``X-API-Key`` → :class:`Principal`, and scope requirements."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader

from virtuoso_api.api_keys.deps import ApiKeysDep
from virtuoso_api.api_keys.gate import PRINCIPAL
from virtuoso_api.api_keys.models import Principal, Scope
from virtuoso_api.errors import Forbidden

# auto_error=False: a missing key must answer in our error shape (401), not FastAPI's 403.
api_key_header = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="An API key made with `virtuoso-api keys create`"
)


async def authenticate(
    request: Request,
    api_keys: ApiKeysDep,
    key: Annotated[str | None, Security(api_key_header)],
) -> Principal:
    # The gate (gate.py) has checked the key before the body was read; ``key`` stays a parameter so
    # the OpenAPI document declares the scheme. Checked here only where no gate ran.
    principal = getattr(request.state, PRINCIPAL, None)
    if not isinstance(principal, Principal):
        principal = await api_keys.authenticate(key)
        request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(authenticate)]


def require_scope(scope: Scope) -> Callable[[Principal], Awaitable[Principal]]:
    async def check(principal: CurrentPrincipal) -> Principal:
        if not principal.allows(scope):
            raise Forbidden(f"this API key lacks the {scope.value!r} scope")
        return principal

    return check


ReadAccess = Annotated[Principal, Depends(require_scope(Scope.READ))]
WriteAccess = Annotated[Principal, Depends(require_scope(Scope.WRITE))]
AdminAccess = Annotated[Principal, Depends(require_scope(Scope.ADMIN))]
