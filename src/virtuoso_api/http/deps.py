"""How a route reaches a running service without importing the composition root.

The root (``services/``) sits above every domain, so a domain's routes cannot import it. Instead each
domain names the service its routes read as a typed :class:`StateKey` (``SESSIONS =
StateKey[SessionService]("sessions")``) and depends on ``SESSIONS.get``; ``app.py``, which knows the
root, puts the running services under those keys when its lifespan starts. The dependency points
down, and both sides are type-checked against the key's type.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from starlette.applications import Starlette
from starlette.requests import Request

from virtuoso_api.errors import ServiceUnavailable

T = TypeVar("T")


class StateKey(Generic[T]):
    """One running service on ``app.state``, under ``name``, typed ``T``."""

    def __init__(self, name: str) -> None:
        self.name = name

    def put(self, app: Starlette, value: T) -> None:
        setattr(app.state, self.name, value)

    def of(self, app: Starlette) -> T:
        """The running service; a 503 outside the lifespan (starting or stopping), not a 500."""
        try:
            value: T = getattr(app.state, self.name)
        except AttributeError:
            raise ServiceUnavailable("the service is starting or stopping; retry shortly") from None
        return value

    async def get(self, request: Request) -> T:
        """As a FastAPI dependency: ``Annotated[SessionService, Depends(SESSIONS.get)]``.

        A coroutine though it never waits: FastAPI runs a plain function dependency in its thread
        pool, and that hop (three per command request) cost more than the rest of the dependencies."""
        return self.of(request.app)
