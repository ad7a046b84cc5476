"""Fixtures every test gets: a clean environment, so a developer's shell or .env never leaks in."""

from __future__ import annotations

from pathlib import Path

import pytest

from virtuoso_api.config import Environment, Settings

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


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Embedded defaults, the data folder in the test's temporary directory, Virtuoso as the sandbox."""
    return Settings(
        _env_file=None, environment=Environment.TEST, data_dir=tmp_path / "data", virtuoso_sandbox=True
    )
