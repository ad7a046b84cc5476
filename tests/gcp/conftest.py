"""The facade under test, on each documents backend the machine can run."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.conftest import BACKENDS, on_backend
from virtuoso_api.config import Settings
from virtuoso_api.gcp import FirestoreClient, close_firestore_client
from virtuoso_api.kit.clock import ManualClock


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(params=BACKENDS)
def backend_settings(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    """Settings for one documents backend."""
    return on_backend(request, settings, request.param)


@pytest.fixture
async def facade(backend_settings: Settings, clock: ManualClock) -> AsyncIterator[FirestoreClient]:
    async with FirestoreClient(backend_settings, clock=clock) as client:
        yield client


@pytest.fixture
async def forget_the_process_client() -> AsyncIterator[None]:
    yield
    await close_firestore_client()
