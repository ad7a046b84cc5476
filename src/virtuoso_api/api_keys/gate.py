"""Authentication before the body is read: a pure-ASGI middleware in front of every ``/api/v1`` route.

FastAPI reads and parses a body before it runs a route's dependencies, so with the key checked only in
a dependency, anyone could make the service read and parse a body. Here the ``X-API-Key`` is checked
first; an unauthenticated request is answered (401, in the envelope) without a byte of its body read.
The :class:`Principal` is left in ``scope["state"]["principal"]``, where ``authenticate`` (auth.py)
finds it.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from virtuoso_api.api_keys.deps import API_KEYS
from virtuoso_api.errors import VirtuosoApiError
from virtuoso_api.http.asgi_errors import send_api_error

PROTECTED_PREFIX = "/api/v1"
PRINCIPAL = "principal"


def is_protected(path: str) -> bool:
    return path == PROTECTED_PREFIX or path.startswith(PROTECTED_PREFIX + "/")


class AuthGateMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_protected(scope["path"]):
            await self.app(scope, receive, send)
            return
        # Reached at request time: the services exist only once the lifespan has built them.
        try:
            principal = await API_KEYS.of(scope["app"]).authenticate(_api_key(scope))
        except VirtuosoApiError as exc:  # Unauthorized (401), BackendUnavailable (503)
            await send_api_error(scope, send, exc)
            return
        scope.setdefault("state", {})[PRINCIPAL] = principal
        await self.app(scope, receive, send)


def _api_key(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"x-api-key":
            # Latin-1, as Starlette decodes headers, so a key hashes as it did through FastAPI.
            return str(value.decode("latin-1"))
    return None
