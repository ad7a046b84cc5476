"""``OPTIONS``, ``HEAD`` and a method a path does not take: ``Allow`` lists every method of the path."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.support import MakeKey, auth
from virtuoso_api.app import create_app
from virtuoso_api.config import Settings

ORIGIN = "https://qa.example.com"


@pytest.mark.parametrize(
    ("path", "allow"),
    [
        ("/api/v1/sessions", "GET, HEAD, POST, OPTIONS"),
        ("/api/v1/sessions/sess_0123456789abcdef", "GET, HEAD, PATCH, DELETE, OPTIONS"),
        ("/api/v1/sessions/current", "GET, HEAD, OPTIONS"),  # "current" is not a session id
        ("/api/v1/commands", "GET, HEAD, POST, OPTIONS"),
        ("/api/v1/commands/batch", "POST, OPTIONS"),
        ("/health/live", "GET, HEAD, OPTIONS"),
    ],
)
async def test_options_lists_every_method_of_the_path_without_a_key(
    client: httpx.AsyncClient, path: str, allow: str
) -> None:
    response = await client.options(path)

    assert response.status_code == 204, response.text
    assert response.headers["allow"] == allow
    assert response.content == b""
    assert response.headers["x-request-id"]


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "/api/v1/sessions", "GET, HEAD, POST, OPTIONS"),
        ("PATCH", "/api/v1/sessions/current", "GET, HEAD, OPTIONS"),
        ("GET", "/api/v1/commands/batch", "POST, OPTIONS"),
        ("POST", "/api/v1/api-keys/key_0", "GET, HEAD, DELETE, OPTIONS"),
    ],
)
async def test_a_method_the_path_does_not_take_is_a_405_with_the_full_allow(
    client: httpx.AsyncClient, make_key: MakeKey, method: str, path: str, allow: str
) -> None:
    response = await client.request(method, path, headers=auth(await make_key()))

    assert response.status_code == 405, response.text
    assert response.headers["allow"] == allow
    assert response.json()["error"]["type"] == "method_not_allowed"


async def test_head_answers_as_get_without_the_body(client: httpx.AsyncClient, make_key: MakeKey) -> None:
    who = auth(await make_key())
    got = await client.get("/api/v1/commands", headers=who)
    head = await client.head("/api/v1/commands", headers=who)
    anonymous = await client.head("/api/v1/commands")

    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["content-length"] == got.headers["content-length"]
    assert anonymous.status_code == 401  # HEAD is a GET: it needs the key GET needs


async def test_an_unknown_path_is_still_a_404(client: httpx.AsyncClient, make_key: MakeKey) -> None:
    response = await client.options("/api/v1/nothing-here", headers=auth(await make_key()))

    assert response.status_code == 404, response.text


@pytest.fixture
async def cors_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings.model_copy(update={"cors_origins": [ORIGIN]}))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
    ):
        yield http


async def test_a_cors_preflight_is_still_answered_by_cors(cors_client: httpx.AsyncClient) -> None:
    preflight = await cors_client.options(
        "/api/v1/sessions",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "X-API-Key, Content-Type",
        },
    )
    plain = await cors_client.options("/api/v1/sessions", headers={"Origin": ORIGIN})

    assert preflight.status_code == 200, preflight.text
    assert preflight.headers["access-control-allow-origin"] == ORIGIN
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert plain.status_code == 204
    assert plain.headers["allow"] == "GET, HEAD, POST, OPTIONS"
    assert plain.headers["access-control-allow-origin"] == ORIGIN
