"""The circuit breaker in front of a Firestore store whose host refuses connections (a real, closed port)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.processes import free_port
from virtuoso_api.config import Settings
from virtuoso_api.errors import BackendUnavailable
from virtuoso_api.kit.clock import ManualClock
from virtuoso_api.resilience import CircuitBreaker, RemoteCall, RetryBudget


class Pauses:
    def __init__(self) -> None:
        self.taken: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.taken.append(seconds)


async def test_an_unavailable_store_is_not_asked_again_until_the_cooldown_is_over(settings: Settings) -> None:
    pytest.importorskip("google.cloud.firestore", reason="the gcp extra is not installed")
    from virtuoso_api.infra.documents.firestore import FirestoreDocumentStore

    clock = ManualClock()
    down = settings.model_copy(
        update={
            "use_firestore": True,
            "gcp_project_id": "demo-down",
            "firestore_emulator_host": f"127.0.0.1:{free_port()}",
        }
    )
    pauses = Pauses()
    remote = RemoteCall(
        "firestore",
        budget=RetryBudget(deadline_seconds=30, attempt_seconds=1, max_attempts=2),
        breaker=CircuitBreaker("firestore", clock=clock, cooldown=timedelta(seconds=5)),
        sleep=pauses,
    )
    store = FirestoreDocumentStore.from_settings(down, clock=clock, remote=remote)
    try:
        with pytest.raises(BackendUnavailable):
            await store.get("sessions", "s-1")
        assert (remote.breaker.opened, len(pauses.taken)) == (1, 1)  # tried twice, then opened

        with pytest.raises(BackendUnavailable) as caught:
            await store.put("sessions", "s-1", {"x": 1})
        assert len(pauses.taken) == 1  # answered without another attempt
        assert caught.value.backend == "firestore"
        assert "(not retried for 5s)" in caught.value.message
        assert caught.value.headers["Retry-After"] == "5"

        clock.advance(timedelta(seconds=5))
        with pytest.raises(BackendUnavailable) as caught:
            await store.ping()  # tried for real again, and still down
        assert len(pauses.taken) == 2
        assert "not retried" not in caught.value.message
    finally:
        await store.close()
