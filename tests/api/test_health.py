"""Liveness and readiness over HTTP."""

from __future__ import annotations

import httpx
import pytest

from virtuoso_api.config import Settings
from virtuoso_api.services import Services


async def test_live_needs_nothing(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/live")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


async def test_ready_reports_each_backend_with_its_latency(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    response = await client.get("/health/ready")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready"
    assert body["backends"]["documents"]["backend"] == ("firestore" if settings.use_firestore else "sqlite")
    assert body["backends"]["documents"]["pending_writes"] == 0
    assert body["backends"]["virtuoso"]["backend"] == "sandbox"
    for backend in body["backends"].values():
        assert backend["status"] == "ok"
        assert backend["latency_ms"] >= 0


async def test_ready_is_503_naming_a_backend_that_does_not_answer(
    client: httpx.AsyncClient, services: Services
) -> None:
    if services.documents.backend != "sqlite":
        pytest.skip("closing is how SQLite goes away; Firestore's case is in tests/health")
    await services.documents.close()  # the store is really gone: its connections are closed
    response = await client.get("/health/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not_ready"
    assert body["backends"]["documents"]["status"] == "unavailable"
    assert body["error"]["type"] == "service_unavailable"
    assert body["error"]["message"] == "not ready: documents (sqlite) not answering"
    assert body["request_id"] == response.headers["X-Request-ID"]


async def test_the_sandbox_is_mounted_for_a_look_inside(client: httpx.AsyncClient) -> None:
    unauthorised = await client.get("/sandbox/api/checkpoints/1001/teststeps")
    assert unauthorised.status_code == 401
    steps = await client.get(
        "/sandbox/api/checkpoints/1001/teststeps", headers={"Authorization": "Bearer sandbox-token"}
    )
    assert steps.status_code == 200
    assert steps.json()["items"] == []
