"""Secret stores for the tests in this folder: the local encrypted file, and Secret Manager on drongo.

Both are built the way a deployment builds them: ``build_secrets`` from ``Settings`` only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from virtuoso_api.config import Environment, Settings
from virtuoso_api.infra.secrets import SecretStore, build_secrets
from virtuoso_api.kit.clock import ManualClock

#: Parameters for a fixture that runs a test once per secret store.
STORES = ["local", pytest.param("secret_manager", marks=pytest.mark.secret_manager)]


def store_settings(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path, **overrides: object
) -> Settings:
    """Settings for one secret store (Secret Manager: a fresh project on the shared drongo)."""
    values: dict[str, object] = {
        "environment": Environment.TEST,
        "data_dir": tmp_path / "data",
        "remote_retry_deadline_seconds": 2.0,
        "remote_attempt_timeout_seconds": 1.0,
    }
    if kind == "secret_manager":
        pytest.importorskip("google.cloud.secretmanager_v1", reason="the gcp extra is not installed")
        server = request.getfixturevalue("drongo")
        values |= {
            "use_secret_manager": True,
            "gcp_project_id": request.getfixturevalue("drongo_project"),
            "secret_manager_emulator_host": server.host,
        }
    return Settings(_env_file=None, **(values | overrides))  # type: ignore[arg-type]


@pytest.fixture(params=STORES)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SecretStore]:
    settings = store_settings(request.param, request, tmp_path)
    async with build_secrets(settings, clock=ManualClock()) as opened:
        yield opened
