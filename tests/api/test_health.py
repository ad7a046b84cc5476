"""Liveness and readiness over HTTP."""

from __future__ import annotations

import httpx

from virtuoso_api.config import Settings


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


async def test_the_sandbox_is_mounted_for_a_look_inside(client: httpx.AsyncClient) -> None:
    unauthorised = await client.get("/sandbox/api/checkpoints/1001/teststeps")
    assert unauthorised.status_code == 401
    steps = await client.get(
        "/sandbox/api/checkpoints/1001/teststeps", headers={"Authorization": "Bearer sandbox-token"}
    )
    assert steps.status_code == 200
    assert steps.json()["items"] == []


async def test_ready_reports_the_local_events_log_and_what_waits_for_it(client: httpx.AsyncClient) -> None:
    events = (await client.get("/health/ready")).json()["backends"]["events"]
    assert (events["backend"], events["status"], events["pending_events"]) == ("sqlite", "ok", 0)


async def test_ready_reports_the_local_blobs_and_what_waits_for_them(client: httpx.AsyncClient) -> None:
    blobs = (await client.get("/health/ready")).json()["backends"]["blobs"]
    assert (blobs["backend"], blobs["status"], blobs["pending_blobs"]) == ("local_blobs", "ok", 0)
