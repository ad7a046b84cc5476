"""The service through a Firestore outage, for real: the emulator is stopped mid-run and restarted.

While it is down, commands keep working (keys come from the in-process memo, history waits in the
local outbox), cache reads miss, what truly needs Firestore answers 503 naming it, and readiness says
so. When it is back, the outbox is flushed: every command is in the history once, in order.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.fixtures.firestore_emulator import FirestoreEmulator, emulator_or_skip
from tests.support import auth
from virtuoso_api.api_keys.models import ApiKeyCreate
from virtuoso_api.app import create_app
from virtuoso_api.config import Settings
from virtuoso_api.kit.clock import ManualClock
from virtuoso_api.sandbox import SEED
from virtuoso_api.services import Services

pytestmark = pytest.mark.firestore
PROJECT = "demo-outage"


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[FirestoreEmulator]:
    """An emulator of this test's own, so stopping it disturbs no other test."""
    pytest.importorskip("google.cloud.firestore", reason="the gcp extra is not installed")
    private = FirestoreEmulator(emulator_or_skip(), tmp_path / "emulator")
    private.start()
    yield private
    private.stop()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def app(settings: Settings, emulator: FirestoreEmulator, clock: ManualClock) -> AsyncIterator[FastAPI]:
    on_firestore = settings.model_copy(
        update={"use_firestore": True, "gcp_project_id": PROJECT, "firestore_emulator_host": emulator.host}
    )
    application = create_app(on_firestore, clock=clock)
    async with application.router.lifespan_context(application):
        yield application


async def _command(http: httpx.AsyncClient, key: str, text: str, clock: ManualClock) -> httpx.Response:
    clock.advance(timedelta(milliseconds=10))  # history is ordered by time: let time pass between commands
    body = {"command": "step-misc", "args": ["comment", text], "checkpoint_id": SEED.checkpoint_id}
    return await http.post("/api/v1/commands", headers=auth(key), json=body)


async def _flush_until_empty(services: Services, clock: ManualClock, tries: int = 40) -> int:
    """Flush until nothing waits; returns what still waits. A restarted emulator may not take the
    first flushes (its gRPC channel reconnects with a backoff of its own, up to two minutes), and
    the service's own periodic flush may land some entries meanwhile, so what counts is the state
    afterwards (every entry in history once, in order), not which flush landed it."""
    for _ in range(tries):
        clock.advance(timedelta(seconds=6))  # past the circuit's cooldown
        await services.outbox.flush()
        if await services.pending_deliveries() == 0:
            break
    return await services.pending_deliveries()


@pytest.mark.timeout(300)  # gRPC's reconnect backoff after the restart is not ours to shorten
async def test_nothing_accepted_during_an_outage_is_lost_or_doubled(
    app: FastAPI, emulator: FirestoreEmulator, clock: ManualClock
) -> None:
    services: Services = app.state.services
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        key, _ = await services.api_keys.create(ApiKeyCreate(name="ci"))
        for text in ("up-1", "up-2"):
            assert (await _command(http, key, text, clock)).status_code == 201
        assert await services.cache.set("projects/101", {"name": "Demo"})

        emulator.stop(keep=PROJECT)

        for text in ("down-1", "down-2", "down-3"):
            response = await _command(http, key, text, clock)
            assert response.status_code == 201, response.text
        # Only the first call waits out the retry budget; the open circuit answers the rest at once.
        assert services.documents.remote.breaker.opened == 1  # type: ignore[attr-defined]

        ready = await http.get("/health/ready")
        assert ready.status_code == 503
        documents: dict[str, Any] = ready.json()["backends"]["documents"]
        assert (documents["backend"], documents["status"], documents["pending_writes"]) == (
            "firestore",
            "unavailable",
            6,  # per command: its in-flight record, then its history entry with the record's removal
        )
        assert await services.cache.get("projects/101") is None  # a miss, not an error
        assert await services.cache.set("projects/102", 1) is False
        sessions = await http.get("/api/v1/sessions", headers=auth(key))
        assert sessions.status_code == 503
        assert sessions.json()["error"]["details"] == {"backend": "firestore"}
        assert "Retry-After" in sessions.headers
        stranger = await http.get("/api/v1/sessions", headers=auth("vk_never-seen-before"))
        assert stranger.status_code == 503  # it cannot be checked, so it is neither let in nor refused

        emulator.start()
        assert await _flush_until_empty(services, clock) == 0

        page = (await http.get("/api/v1/commands/history", headers=auth(key))).json()
        texts = [entry["args"][1] for entry in page["entries"]]
        assert texts == ["down-3", "down-2", "down-1", "up-2", "up-1"]
        assert len({entry["entry_id"] for entry in page["entries"]}) == 5
        assert all(entry["success"] for entry in page["entries"])
        ready = await http.get("/health/ready")
        assert ready.status_code == 200
        assert ready.json()["backends"]["documents"]["pending_writes"] == 0
        assert await services.cache.get("projects/101") == {"name": "Demo"}
