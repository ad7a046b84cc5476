"""``virtuoso-api logs export --since``, ``storage lifecycle [--dry-run]`` and ``storage publish-docs``,
run in-process through typer's runner on a data folder whose history was written beforehand."""

from __future__ import annotations

import asyncio
import gzip
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from virtuoso_api.cli import app
from virtuoso_api.config import Environment, Settings
from virtuoso_api.kit.clock import ManualClock
from virtuoso_api.services import Services
from virtuoso_api.storage import BucketKind

runner = CliRunner()


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ENVIRONMENT", "test")
    return Settings(_env_file=None, environment=Environment.TEST, data_dir=tmp_path / "data")


def _record_history(settings: Settings) -> list[str]:
    """Three commands: two on 2026-03-01, one on 2026-03-02 (the service's clock)."""

    async def work() -> list[str]:
        clock = ManualClock(datetime(2026, 3, 1, 10, 0, tzinfo=UTC))
        async with Services.running(settings, clock=clock) as services:
            ids = []
            for command in ("navigate", "click", "write"):
                entry = await services.history.record(user_id="u", command=command, args=["x"], success=True)
                ids.append(entry.entry_id)
                clock.advance(timedelta(hours=10))
            return ids

    return asyncio.run(work())


def _blob(settings: Settings, kind: BucketKind, name: str) -> bytes | None:
    async def work() -> bytes | None:
        async with Services.running(settings) as services:
            try:
                return (await services.storage.store.get(services.storage.buckets[kind], name)).data
            except Exception:
                return None

    return asyncio.run(work())


def test_logs_export_writes_a_blob_per_day(settings: Settings) -> None:
    ids = _record_history(settings)
    result = runner.invoke(app, ["logs", "export", "--since", "2026-03-01", "--json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == [
        {"day": "2026-03-01", "blob": "history/2026-03-01.ndjson.gz", "entries": 2, "delivered": True},
        {"day": "2026-03-02", "blob": "history/2026-03-02.ndjson.gz", "entries": 1, "delivered": True},
    ]
    first = _blob(settings, BucketKind.COMMAND_LOGS, "history/2026-03-01.ndjson.gz")
    assert first is not None
    lines = [json.loads(line) for line in gzip.decompress(first).splitlines()]
    assert [(line["entry_id"], line["command"]) for line in lines] == [
        (ids[0], "navigate"),
        (ids[1], "click"),
    ]
    # Exporting again writes the same bytes (a day's blob is rewritten whole, deterministically).
    assert runner.invoke(app, ["logs", "export", "--since", "2026-03-01"]).exit_code == 0
    assert _blob(settings, BucketKind.COMMAND_LOGS, "history/2026-03-01.ndjson.gz") == first


def _write_old_blobs(settings: Settings) -> None:
    """A log and a result written on 2026-03-01 (the service's clock then), months before now."""

    async def work() -> None:
        clock = ManualClock(datetime(2026, 3, 1, tzinfo=UTC))
        async with Services.running(settings, clock=clock) as services:
            for kind in (BucketKind.COMMAND_LOGS, BucketKind.ARCHIVE):
                await services.storage.write(kind, "history/old.ndjson.gz", b"old", content_type="x/y")

    asyncio.run(work())


def test_lifecycle_dry_run_shows_what_lifecycle_then_does(settings: Settings) -> None:
    _write_old_blobs(settings)
    # Months later (the real clock): past the 90 days of STORAGE_LOGS_DELETE_AFTER_DAYS; the archive
    # has no rule.
    dry = runner.invoke(app, ["storage", "lifecycle", "--dry-run"])
    assert dry.exit_code == 0, dry.stderr
    assert "test-command-logs: delete after 90 days" in dry.stdout
    assert "test-archive: kept (no rule)" in dry.stdout
    assert "would delete: test-command-logs/history/old.ndjson.gz" in dry.stdout
    assert "test-archive/" not in dry.stdout
    assert _blob(settings, BucketKind.COMMAND_LOGS, "history/old.ndjson.gz") == b"old"  # untouched

    done = runner.invoke(app, ["storage", "lifecycle", "--json"])
    assert done.exit_code == 0, done.stderr
    changes = json.loads(done.stdout)["changes"]
    assert [(change["bucket"], change["name"], change["action"]) for change in changes] == [
        ("test-command-logs", "history/old.ndjson.gz", "delete")
    ]
    assert _blob(settings, BucketKind.COMMAND_LOGS, "history/old.ndjson.gz") is None
    assert _blob(settings, BucketKind.ARCHIVE, "history/old.ndjson.gz") == b"old"


def test_a_bad_since_is_refused_naming_it(settings: Settings) -> None:
    result = runner.invoke(app, ["logs", "export", "--since", "last week"])
    assert result.exit_code == 2
    assert "--since" in result.stderr


def test_publish_docs_stores_the_api_document_and_a_page(settings: Settings) -> None:
    result = runner.invoke(app, ["storage", "publish-docs", "--json"])
    assert result.exit_code == 0, result.stderr
    links = json.loads(result.stdout)
    assert set(links) == {"html", "openapi", "reports_index"}
    assert all(link.startswith("http://127.0.0.1:8000/files/test-static-assets/") for link in links.values())
    document = json.loads(_blob(settings, BucketKind.STATIC, "docs/openapi.json") or b"{}")
    assert "/api/v1/runs/{execution_id}" in document["paths"]
    page = (_blob(settings, BucketKind.STATIC, "docs/index.html") or b"").decode()
    assert "/api/v1/runs/{execution_id}" in page
    assert "<script" not in page
