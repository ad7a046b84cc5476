"""The OpenAPI document says what the service answers, and the history accepts an empty filter."""

from __future__ import annotations

import httpx

from tests.support import MakeKey, auth


async def test_post_commands_documents_its_refusals_in_the_envelope(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    responses = document["paths"]["/api/v1/commands"]["post"]["responses"]

    for status in ("401", "403", "404", "409", "413", "415", "422", "503"):
        assert status in responses, status
    for status in ("401", "422"):
        schema = responses[status]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/ErrorEnvelope"}, status
    assert "error" in document["components"]["schemas"]["ErrorEnvelope"]["properties"]


async def test_an_empty_checkpoint_id_is_no_filter(client: httpx.AsyncClient, make_key: MakeKey) -> None:
    who = auth(await make_key())
    sent = await client.post(
        "/api/v1/commands",
        headers=who,
        json={"command": "step-navigate", "args": ["to", "https://a.example"], "checkpoint_id": 1001},
    )
    assert sent.status_code == 201, sent.text

    empty = await client.get("/api/v1/commands/history?checkpoint_id=", headers=who)
    absent = await client.get("/api/v1/commands/history", headers=who)

    assert empty.status_code == 200, empty.text
    assert [entry["command"] for entry in empty.json()["entries"]] == ["step-navigate"]
    assert empty.json()["entries"] == absent.json()["entries"]
