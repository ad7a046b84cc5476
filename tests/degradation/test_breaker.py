"""The circuit breaker over a Firestore store whose host refuses connections (a real, closed port)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from tests.processes import free_port
from virtuoso_api.config import Settings
from virtuoso_api.errors import BackendUnavailable
from virtuoso_api.infra.documents.breaker import CircuitBreakingStore
from virtuoso_api.kit.clock import ManualClock


async def test_an_unavailable_store_is_not_asked_again_until_the_cooldown_is_over(settings: Settings) -> None:
    pytest.importorskip("google.cloud.firestore", reason="the gcp extra is not installed")
    from virtuoso_api.infra.documents.firestore import FirestoreDocumentStore
    from virtuoso_api.infra.documents.firestore_calls import RetryPolicy

    clock = ManualClock()
    down = settings.model_copy(
        update={
            "use_firestore": True,
            "gcp_project_id": "demo-down",
            "firestore_emulator_host": f"127.0.0.1:{free_port()}",
        }
    )
    inner = FirestoreDocumentStore.from_settings(
        down, clock=clock, policy=RetryPolicy(attempt_seconds=0.5, total_seconds=0.5)
    )
    store = CircuitBreakingStore(inner, clock=clock, cooldown=timedelta(seconds=5))
    try:
        with pytest.raises(BackendUnavailable):
            await store.get("sessions", "s-1")

        started = time.monotonic()
        with pytest.raises(BackendUnavailable) as caught:
            await store.put("sessions", "s-1", {"x": 1})
        assert time.monotonic() - started < 0.05  # answered without touching the network
        assert caught.value.backend == "firestore"
        assert "(not retried for 5s)" in caught.value.message
        assert caught.value.headers["Retry-After"] == "5"

        clock.advance(timedelta(seconds=5))
        with pytest.raises(BackendUnavailable) as caught:
            await store.ping()  # tried for real again, and still down
        assert "not retried" not in caught.value.message
        assert "Connection refused" in caught.value.message or "failed to connect" in caught.value.message
    finally:
        await store.close()
