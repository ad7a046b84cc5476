"""The data folder and the SQLite files in it are private to the service's user, whatever the umask."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from virtuoso_api.app import create_app
from virtuoso_api.config import Settings
from virtuoso_api.kit.clock import ManualClock


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """The usual umask, under which files are readable by every local user unless made private."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("loose_umask")
async def test_the_data_folder_and_files_are_private(settings: Settings, clock: ManualClock) -> None:
    assert not settings.data_dir.exists()
    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            assert (await http.get("/health/live")).status_code == 200

        data = settings.data_dir
        assert _mode(data) == 0o700
        for name in ("virtuoso-api.sqlite3", "outbox.sqlite3"):
            assert _mode(data / name) == 0o600, name
            wal = data / f"{name}-wal"
            if wal.exists():
                assert _mode(wal) == 0o600, wal.name
