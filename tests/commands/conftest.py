"""Commands run through the HTTP API into the in-process sandbox; state is read back from the sandbox."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support import MakeKey, auth
from virtuoso_api.sandbox import SEED
from virtuoso_api.services import Services

CHECKPOINT = SEED.checkpoint_id


@pytest.fixture
async def writer(make_key: MakeKey) -> dict[str, str]:
    return auth(await make_key(name="author"))


async def stored_steps(services: Services, checkpoint_id: int = CHECKPOINT) -> list[dict[str, Any]]:
    """The checkpoint's steps as the sandbox keeps them, in order."""
    steps = await services.virtuoso.client.list_steps(checkpoint_id)
    return [step.model_dump(mode="json") for step in steps]


async def run(
    client: httpx.AsyncClient, headers: dict[str, str], command: str, *args: str, **body: Any
) -> httpx.Response:
    return await client.post(
        "/api/v1/commands", headers=headers, json={"command": command, "args": list(args), **body}
    )
