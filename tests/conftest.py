"""Shared fixtures: a clean environment for every test, and the service under test (the real app and
its lifespan, reached over HTTP through httpx)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from tests.support import MakeKey
from virtuoso_api.api_keys.models import ApiKeyCreate, Scope
from virtuoso_api.app import create_app
from virtuoso_api.config import Environment, Settings
from virtuoso_api.kit.clock import ManualClock
from virtuoso_api.services import Services

# Google's emulators as session fixtures (started on first use, skipped where the machine lacks them).
pytest_plugins = [
    "tests.fixtures.firestore_emulator",
    "tests.fixtures.drongo_emulator",
    "tests.fixtures.pubsub_emulator",
    "tests.fixtures.storage_emulator",
]

# Variables the service reads; tests start with none of them set.
_SERVICE_VARIABLES = tuple(name.upper() for name in Settings.model_fields)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in _SERVICE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_GCE_CHECK", "true")  # google-auth must never probe a metadata server here
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.chdir(tmp_path)  # so no .env of the working tree is read
    return


def on_backend(request: pytest.FixtureRequest, settings: Settings, backend: str) -> Settings:
    """``settings`` with documents in ``backend``: ``sqlite`` as is, ``firestore`` on the emulator."""
    if backend == "sqlite":
        return settings
    emulator = request.getfixturevalue("firestore_emulator")
    project = request.getfixturevalue("firestore_project")
    return settings.model_copy(
        update={"use_firestore": True, "gcp_project_id": project, "firestore_emulator_host": emulator.host}
    )


#: Parameters for a fixture that runs a test once per documents backend.
BACKENDS = ["sqlite", pytest.param("firestore", marks=pytest.mark.firestore)]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Embedded defaults, the data folder in the test's temporary directory, Virtuoso as the sandbox."""
    return Settings(
        _env_file=None, environment=Environment.TEST, data_dir=tmp_path / "data", virtuoso_sandbox=True
    )


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def app(settings: Settings, clock: ManualClock) -> AsyncIterator[FastAPI]:
    application = create_app(settings, clock=clock)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
def services(app: FastAPI) -> Services:
    running: Services = app.state.services
    return running


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
def make_key(services: Services) -> MakeKey:
    """Creates a key through the service (as ``virtuoso-api keys create`` does) and returns it."""

    async def make(
        *scopes: Scope, name: str = "tester", user: str | None = None, days: int | None = None
    ) -> str:
        request = ApiKeyCreate(
            name=name, scopes=list(scopes) or [Scope.READ, Scope.WRITE], user_id=user, expires_in_days=days
        )
        key, _ = await services.api_keys.create(request)
        return key

    return make
