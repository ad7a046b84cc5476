"""What every sandbox route shares: the state, the bearer-token check and Virtuoso's envelopes."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import Depends, Query, Request

from virtuoso_api.sandbox.errors import SandboxError
from virtuoso_api.sandbox.state import SandboxState


async def get_state(request: Request) -> SandboxState:
    # A coroutine: FastAPI would run a plain function in its thread pool, once per request.
    state: SandboxState = request.app.state.sandbox
    return state


State = Annotated[SandboxState, Depends(get_state)]


async def require_token(request: Request, state: State) -> None:
    """401, with ``error`` as a plain string, unless ``Authorization: Bearer <token>`` matches."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise SandboxError(
            401, "UNAUTHORIZED", "Authentication required: send Authorization: Bearer <token>", plain=True
        )
    if not secrets.compare_digest(token.strip().encode(), state.token.encode()):
        raise SandboxError(401, "UNAUTHORIZED", "Invalid API token", plain=True)


def ok(item: Any) -> dict[str, Any]:
    return {"success": True, "item": item}


def ok_items(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"success": True, "items": items}


def ok_map(objects: Iterable[dict[str, Any]], *, total: int | None = None) -> dict[str, Any]:
    found = {str(obj["id"]): obj for obj in objects}
    return {"success": True, "map": found, "total": len(found) if total is None else total}


#: ``?envelope=false`` asks for the bare object instead of ``{"success": true, "item": ...}``.
Bare = Annotated[bool, Query(alias="envelope")]


def answer(item: Any, envelope: bool) -> Any:
    return ok(item) if envelope else item
