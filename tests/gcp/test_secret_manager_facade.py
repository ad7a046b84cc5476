"""``virtuoso_api.gcp.get_secret_manager_client()``: the seed's "Secret Management" example as written,
on the local encrypted store and on Secret Manager (drongo), and every method."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from tests.infra.secrets.conftest import STORES, store_settings
from virtuoso_api.errors import Conflict, InvalidInput, NotFound
from virtuoso_api.gcp import SecretManagerClient, close_secret_manager_client
from virtuoso_api.kit.clock import ManualClock
from virtuoso_api.kit.redact import redact


@pytest.fixture
async def forget_the_process_client() -> AsyncIterator[None]:
    yield
    await close_secret_manager_client()


@pytest.mark.usefixtures("forget_the_process_client")
@pytest.mark.parametrize("backend", STORES)
async def test_the_seeds_secret_example_runs_as_written(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, request: pytest.FixtureRequest, backend: str
) -> None:
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    if backend == "secret_manager":  # configured as a user would: environment variables, nothing else
        pytest.importorskip("google.cloud.secretmanager_v1", reason="the gcp extra is not installed")
        monkeypatch.setenv("USE_SECRET_MANAGER", "true")
        monkeypatch.setenv("GCP_PROJECT_ID", request.getfixturevalue("drongo_project"))
        monkeypatch.setenv("SECRET_MANAGER_EMULATOR_HOST", request.getfixturevalue("drongo").host)
    # --- the seed's "Secret Management", with app.gcp spelled virtuoso_api.gcp (and SecretType, which
    # the seed uses without importing, imported from the same module) ---
    from virtuoso_api.gcp import SecretType, get_secret_manager_client

    secrets = get_secret_manager_client()

    # Load Virtuoso credentials
    creds = await secrets.load_virtuoso_credentials()

    # Store API key
    await secrets.create_secret(SecretType.VIRTUOSO_API_KEY, {"api_key": "secret-key", "org_id": "1234"})

    # Rotate secret
    await secrets.rotate_secret(SecretType.VIRTUOSO_API_KEY, {"api_key": "new-secret-key", "org_id": "1234"})
    # ---
    assert creds is None  # nothing was stored before the example ran
    creds = await secrets.load_virtuoso_credentials()
    assert creds is not None
    assert (creds.api_key, creds.org_id, creds.source) == (
        "new-secret-key",
        1234,
        "secret local-virtuoso-api-key version 2",
    )
    assert "new-secret-key" not in repr(creds)
    assert redact("new-secret-key") == "***"
    assert get_secret_manager_client() is secrets
    assert secrets.backend == backend


@pytest.fixture(params=STORES)
async def facade(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SecretManagerClient]:
    settings = store_settings(request.param, request, tmp_path)
    async with SecretManagerClient(settings, clock=ManualClock()) as client:
        yield client


async def test_every_method(facade: SecretManagerClient) -> None:
    kind = "webhook-signing-key"
    assert await facade.get_secret(kind, name="orders") is None
    made = await facade.create_secret(kind, {"key": "k" * 40}, name="orders")
    assert made == {"secret": "test-webhook-signing-key-orders", "type": kind, "version": 1}
    with pytest.raises(Conflict):
        await facade.create_secret(kind, {"key": "k" * 40}, name="orders")
    rotated = await facade.rotate_secret(kind, name="orders")  # a generated key
    assert (rotated["version"], rotated["disabled_versions"], rotated["destroyed_versions"]) == (2, [], [])
    newest = await facade.get_secret(kind, name="orders")
    assert newest is not None
    assert newest["key"] != "k" * 40
    assert await facade.get_secret(kind, name="orders", version=1) == {"key": "k" * 40}
    assert [(v["version"], v["state"]) for v in await facade.list_versions(kind, name="orders")] == [
        (2, "enabled"),
        (1, "enabled"),
    ]
    assert await facade.delete_secret(kind, name="orders") is True
    assert await facade.delete_secret(kind, name="orders") is False
    with pytest.raises(NotFound):
        await facade.rotate_secret(kind, name="orders")
    with pytest.raises(InvalidInput, match="value.api_key"):
        await facade.create_secret("virtuoso-api-key", {"org_id": 5})


async def test_the_environment_variables_win(facade: SecretManagerClient) -> None:
    await facade.create_secret("virtuoso-api-key", {"api_key": "from-the-secret", "org_id": 7})
    settings = facade.settings
    with_token = settings.model_copy(
        update={"virtuoso_api_token": SecretStr("from-env"), "virtuoso_org_id": 9}
    )
    async with SecretManagerClient(with_token, clock=ManualClock()) as overridden:
        creds = await overridden.load_virtuoso_credentials()
    assert creds is not None
    assert (creds.api_key, creds.org_id, creds.source) == ("from-env", 9, "environment")
    with_org = settings.model_copy(update={"virtuoso_org_id": 9})
    async with SecretManagerClient(with_org, clock=ManualClock()) as org_only:
        creds = await org_only.load_virtuoso_credentials()
    assert creds is not None
    assert (creds.api_key, creds.org_id) == ("from-the-secret", 9)
