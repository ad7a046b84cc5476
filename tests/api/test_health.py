"""Liveness and readiness over HTTP."""

from __future__ import annotations

import httpx
from pydantic import SecretStr

from tests.processes import free_port
from virtuoso_api.app import create_app
from virtuoso_api.config import Settings
from virtuoso_api.services import Services


async def test_live_needs_nothing(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/live")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


async def test_ready_reports_each_backend_with_its_latency(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/ready")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready"
    assert body["backends"]["documents"]["backend"] == "sqlite"
    assert body["backends"]["virtuoso"]["backend"] == "sandbox"
    for backend in body["backends"].values():
        assert backend["status"] == "ok"
        assert backend["latency_ms"] >= 0


async def test_ready_is_503_naming_a_backend_that_does_not_answer(
    client: httpx.AsyncClient, services: Services
) -> None:
    await services.documents.close()  # the store is really gone: its connections are closed
    response = await client.get("/health/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not_ready"
    assert body["backends"]["documents"]["status"] == "unavailable"
    assert body["error"]["type"] == "service_unavailable"
    assert body["error"]["message"] == "not ready: documents (sqlite) not answering"
    assert body["request_id"] == response.headers["X-Request-ID"]


async def _ready(settings: Settings) -> httpx.Response:
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
    ):
        return await http.get("/health/ready")


async def test_without_a_token_or_the_sandbox_virtuoso_is_unconfigured(settings: Settings) -> None:
    response = await _ready(settings.model_copy(update={"virtuoso_sandbox": False}))
    assert response.status_code == 503
    virtuoso = response.json()["backends"]["virtuoso"]
    assert (virtuoso["backend"], virtuoso["status"]) == ("unconfigured", "unavailable")
    assert "set VIRTUOSO_API_TOKEN" in virtuoso["reason"]


async def test_an_unreachable_virtuoso_is_named_without_its_token(
    settings: Settings,
) -> None:
    closed_port = free_port()  # nothing listens on it
    configured = settings.model_copy(
        update={
            "virtuoso_sandbox": False,
            "virtuoso_api_token": SecretStr("tok-secret-123"),
            "virtuoso_base_url": f"http://127.0.0.1:{closed_port}/api",
        }
    )
    response = await _ready(configured)
    assert response.status_code == 503
    body = response.json()
    assert body["backends"]["virtuoso"]["backend"] == "virtuoso"
    assert "virtuoso (virtuoso)" in body["error"]["message"]
    assert "tok-secret-123" not in response.text


async def test_the_sandbox_is_mounted_for_a_look_inside(client: httpx.AsyncClient) -> None:
    unauthorised = await client.get("/sandbox/api/checkpoints/1001/teststeps")
    assert unauthorised.status_code == 401
    steps = await client.get(
        "/sandbox/api/checkpoints/1001/teststeps", headers={"Authorization": "Bearer sandbox-token"}
    )
    assert steps.status_code == 200
    assert steps.json()["items"] == []
