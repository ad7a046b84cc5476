"""Readiness in each configuration: which Virtuoso, which documents store, and when they are down.

These build their own settings, so they run once (not once per backend like tests/api)."""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr

from tests.processes import free_port
from virtuoso_api.app import create_app
from virtuoso_api.config import Settings
from virtuoso_api.infra.events.sqlite_log import SqliteEventLog
from virtuoso_api.services import Services


async def test_a_closed_sqlite_store_makes_ready_503_naming_it(
    client: httpx.AsyncClient, services: Services
) -> None:
    await services.documents.close()  # the store is really gone: its connections are closed
    response = await client.get("/health/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not_ready"
    assert body["backends"]["documents"]["status"] == "unavailable"
    assert body["backends"]["documents"]["check"] == "DATA_DIR"  # what failed is logged, not answered
    assert body["error"]["type"] == "service_unavailable"
    assert body["error"]["message"] == "not ready: documents (sqlite) not answering"
    assert body["request_id"] == response.headers["X-Request-ID"]


async def test_a_closed_events_log_makes_ready_503_naming_it(
    client: httpx.AsyncClient, services: Services
) -> None:
    journal = services.events.capability.journal
    assert isinstance(journal, SqliteEventLog)
    await journal.close()  # the local log's file is really gone
    response = await client.get("/health/ready")
    assert response.status_code == 503
    events = response.json()["backends"]["events"]
    assert (events["backend"], events["status"], events["check"]) == ("sqlite", "unavailable", "DATA_DIR")
    assert response.json()["error"]["message"] == "not ready: events (sqlite) not answering"


async def test_an_unreachable_firestore_is_named_and_the_service_still_starts(settings: Settings) -> None:
    pytest.importorskip("google.cloud.firestore", reason="the gcp extra is not installed")
    down = settings.model_copy(
        update={
            "use_firestore": True,
            "gcp_project_id": "demo-down",
            "firestore_emulator_host": f"127.0.0.1:{free_port()}",  # nothing listens there
        }
    )
    response = await _ready(down)
    assert response.status_code == 503
    body = response.json()
    assert body["backends"]["documents"] | {"latency_ms": 0, "reason": ""} == {
        "backend": "firestore",
        "status": "unavailable",
        "latency_ms": 0,
        "reason": "",
        "check": "FIRESTORE_EMULATOR_HOST",
        "pending_writes": 0,
    }
    assert body["error"]["message"] == "not ready: documents (firestore) not answering"


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
    assert virtuoso["check"] == "VIRTUOSO_API_TOKEN"


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
