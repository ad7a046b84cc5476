"""The secrets domain over each store: the local encrypted file, and Secret Manager on drongo."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import pytest

from tests.infra.secrets.conftest import STORES, store_settings
from virtuoso_api.config import Settings
from virtuoso_api.kit.clock import ManualClock
from virtuoso_api.secrets import SecretsService
from virtuoso_api.services.secrets import build_secrets_service

OpenService = Callable[..., AbstractAsyncContextManager[SecretsService]]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(params=STORES)
def secrets_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    return store_settings(request.param, request, tmp_path)


@pytest.fixture
def open_service(secrets_settings: Settings, clock: ManualClock) -> OpenService:
    """Another service on the same store (another process, as far as the cache knows), optionally
    with other settings (``environment=...``)."""

    def open_one(**overrides: Any) -> AbstractAsyncContextManager[SecretsService]:
        settings = secrets_settings.model_copy(update=overrides)
        return build_secrets_service(settings, clock=clock)

    return open_one


@pytest.fixture
async def service(open_service: OpenService) -> AsyncIterator[SecretsService]:
    async with open_service() as opened:
        yield opened
