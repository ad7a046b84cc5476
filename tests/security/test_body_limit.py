"""``MAX_REQUEST_BYTES`` and the key checked before the body: nobody makes the service read a body
it will not accept, and an unauthenticated caller makes it read none."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.support import MakeKey, auth
from virtuoso_api.config import Settings

LIMIT = 4096
CHUNK = 512
CHUNKS = 200  # 100 KiB in all: far over the limit


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"max_request_bytes": LIMIT})


class CountedBody:
    """A request body sent in chunks, counting the chunks the server pulled."""

    def __init__(self) -> None:
        self.pulled = 0

    async def stream(self) -> AsyncIterator[bytes]:
        for _ in range(CHUNKS):
            self.pulled += 1
            yield b" " * CHUNK


async def test_an_unauthenticated_chunked_body_is_refused_unread(client: httpx.AsyncClient) -> None:
    body = CountedBody()
    response = await client.post(
        "/api/v1/commands", headers={"Content-Type": "application/json"}, content=body.stream()
    )
    assert response.status_code in {401, 413}, response.text
    # Reading up to the limit would pull LIMIT // CHUNK + 1 chunks; the key is checked first.
    assert body.pulled <= 1


async def test_an_unauthenticated_body_declared_too_large_is_refused_unread(
    client: httpx.AsyncClient,
) -> None:
    body = CountedBody()
    response = await client.post(
        "/api/v1/commands",
        headers={"Content-Type": "application/json", "Content-Length": str(CHUNK * CHUNKS)},
        content=body.stream(),
    )
    assert response.status_code in {401, 413}, response.text
    assert body.pulled <= 1


async def test_a_declared_length_over_the_limit_is_a_413_in_the_envelope(
    client: httpx.AsyncClient, make_key: MakeKey
) -> None:
    response = await client.post(
        "/api/v1/sessions",
        headers={**auth(await make_key()), "Content-Type": "application/json"},
        content=b'{"checkpoint_id": 1001, "name": "' + b"x" * LIMIT + b'"}',
    )
    assert response.status_code == 413, response.text
    error = response.json()["error"]
    assert error["type"] == "payload_too_large"
    assert "MAX_REQUEST_BYTES" in error["message"]
    assert response.json()["request_id"] == response.headers["X-Request-ID"]


async def test_a_chunked_body_over_the_limit_is_a_413(client: httpx.AsyncClient, make_key: MakeKey) -> None:
    body = CountedBody()
    response = await client.post(
        "/api/v1/sessions",
        headers={**auth(await make_key()), "Content-Type": "application/json"},
        content=body.stream(),
    )
    assert response.status_code == 413, response.text
    assert response.json()["error"]["type"] == "payload_too_large"
    # Refused once the count passed the limit, not after the whole body.
    assert body.pulled <= LIMIT // CHUNK + 2


async def test_a_normal_request_is_still_served(client: httpx.AsyncClient, make_key: MakeKey) -> None:
    response = await client.post(
        "/api/v1/sessions", headers=auth(await make_key()), json={"checkpoint_id": 1001, "name": "fits"}
    )
    assert response.status_code == 201, response.text
