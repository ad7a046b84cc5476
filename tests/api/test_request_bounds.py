"""What a request may carry: metadata nested too deep, and strings that are not valid Unicode."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.support import MakeKey, auth
from virtuoso_api.services import Services


def _nested(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(levels):
        value = {"a": value}
    return value


def _fields(response: httpx.Response) -> list[str]:
    return [detail["field"] for detail in response.json()["error"]["details"]]


async def test_metadata_nested_300_levels_is_a_422_and_breaks_nothing(
    client: httpx.AsyncClient, make_key: MakeKey
) -> None:
    who = auth(await make_key())
    created = await client.post("/api/v1/sessions", headers=who, json={"checkpoint_id": 1001})
    assert created.status_code == 201, created.text
    session_id = created.json()["session_id"]

    body = json.dumps({"metadata": _nested(300)})
    patched = await client.patch(
        f"/api/v1/sessions/{session_id}",
        headers={**who, "Content-Type": "application/json"},
        content=body.encode(),
    )

    assert patched.status_code == 422, patched.text
    assert patched.json()["error"]["type"] == "validation_error"
    assert _fields(patched) == ["metadata"]
    listed = await client.get("/api/v1/sessions", headers=who)
    assert listed.status_code == 200, listed.text
    assert [session["metadata"] for session in listed.json()] == [{}]


async def test_a_lone_surrogate_in_args_is_a_422_naming_it(
    client: httpx.AsyncClient, make_key: MakeKey, services: Services
) -> None:
    # Raw bytes: the JSON escape reaches the parser, which turns it into a lone surrogate.
    body = b'{"command":"step-misc","args":["comment","\\udc80"],"checkpoint_id":1001}'
    response = await client.post(
        "/api/v1/commands",
        headers={**auth(await make_key()), "Content-Type": "application/json"},
        content=body,
    )

    assert response.status_code == 422, response.text
    assert _fields(response) == ["args[1]"]
    assert await services.virtuoso.client.list_steps(1001) == []


async def test_a_lone_surrogate_in_a_batch_is_a_422_and_no_step_is_made(
    client: httpx.AsyncClient, make_key: MakeKey, services: Services
) -> None:
    body = b'{"commands":[{"command":"step-misc","args":["comment","\\udc80"]}],"checkpoint_id":1001}'
    response = await client.post(
        "/api/v1/commands/batch",
        headers={**auth(await make_key()), "Content-Type": "application/json"},
        content=body,
    )

    assert response.status_code == 422, response.text
    assert _fields(response) == ["commands[0].args[1]"]
    assert await services.virtuoso.client.list_steps(1001) == []
