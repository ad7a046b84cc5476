"""Liveness and readiness over HTTP."""

from __future__ import annotations

import httpx

from virtuoso_api.services import Services


async def test_live_needs_nothing(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/live")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


async def test_ready_reports_each_backend_with_its_latency(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/ready")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["backends"]["documents"]["backend"] == "sqlite"
    assert body["backends"]["documents"]["status"] == "ok"
    assert body["backends"]["documents"]["latency_ms"] >= 0


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
    assert "documents (sqlite)" in body["error"]["message"]
    assert body["request_id"] == response.headers["X-Request-ID"]
