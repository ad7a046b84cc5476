"""``build_documents``: the store the settings ask for, with or without the Google libraries."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from virtuoso_api.config import Settings
from virtuoso_api.infra.documents import Document, Put, build_documents
from virtuoso_api.infra.documents.sqlite import SqliteDocumentStore
from virtuoso_api.infra.outbox import build_outbox
from virtuoso_api.kit.clock import ManualClock


async def test_default_settings_give_sqlite_in_the_data_folder(settings: Settings) -> None:
    async with (
        build_outbox(settings, clock=ManualClock()) as outbox,
        build_documents(settings, clock=ManualClock(), outbox=outbox) as documents,
    ):
        store = documents.store
        assert isinstance(store, SqliteDocumentStore)
        assert store.path == settings.database_path
        await documents.writes.write([Put("things", "x", {"a": 1})])
        assert await store.get("things", "x") == Document("x", {"a": 1})


async def test_package_imports_and_runs_without_the_gcp_extra(tmp_path: Path) -> None:
    script = """
import asyncio, sys
class NoGoogle:
    def find_spec(self, name, path=None, target=None):
        if name == "google" or name.startswith("google."):
            raise ImportError(f"blocked {name}")
sys.meta_path.insert(0, NoGoogle())
from virtuoso_api.config import Settings
from virtuoso_api.services import Services
async def main():
    async with Services.running(Settings(_env_file=None, data_dir=sys.argv[1])) as services:
        await services.documents.put("things", "x", {"a": 1})
        print(services.documents.backend, (await services.documents.get("things", "x")).data)
    settings = Settings(_env_file=None, data_dir=sys.argv[1], use_firestore=True, gcp_project_id="p")
    try:
        async with Services.running(settings):
            pass
    except Exception as exc:
        print(type(exc).__name__, exc)
asyncio.run(main())
"""
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", script, str(tmp_path / "data")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "sqlite {'a': 1}"
    assert lines[1].startswith("Misconfigured USE_FIRESTORE is on but the Google Cloud libraries are missing")
    assert "pip install 'virtuoso-api[gcp]'" in lines[1]
