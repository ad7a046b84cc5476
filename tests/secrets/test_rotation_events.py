"""``secret.rotated``: a new version of an existing secret is announced (its name and version, never its
value), once per version, by the server, the command line and the facade alike."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.support import published
from virtuoso_api.cli import app as cli
from virtuoso_api.config import Settings
from virtuoso_api.events import SCHEMAS, EventType
from virtuoso_api.gcp import SecretManagerClient
from virtuoso_api.infra.events import JOURNAL_FILE
from virtuoso_api.infra.events.sqlite_log import SqliteEventLog
from virtuoso_api.kit.clock import ManualClock
from virtuoso_api.secrets import SecretType
from virtuoso_api.services import Services


async def journal_of(data_dir: Path) -> list[dict[str, Any]]:
    """The events in a data folder's local log, as a server there would read them."""
    log = SqliteEventLog(data_dir / JOURNAL_FILE, clock=ManualClock())
    try:
        return [json.loads(logged.message.data) for logged in await log.read(after=0, limit=1000)]
    finally:
        await log.close()


async def test_the_service_announces_each_new_version_once(services: Services) -> None:
    secrets = services.secrets
    ref = secrets.ref(SecretType.VIRTUOSO_API_KEY)
    await secrets.put(ref, {"api_key": "first-value-8c1f"})  # a first value: nothing rotated
    await secrets.rotate(ref, {"api_key": "second-value-8c1f"})
    await secrets.put(ref, {"api_key": "third-value-8c1f"})  # storing into an existing secret rotates it
    events = await published(services, "secret.rotated")
    assert [e["data"] for e in events] == [
        {"secret": "test-virtuoso-api-key", "version": "2"},
        {"secret": "test-virtuoso-api-key", "version": "3"},
    ]
    for event in events:
        SCHEMAS[EventType.SECRET_ROTATED][0].model_validate(event["data"])
        assert (event["owner"], event["subject"]) == ("system", "secret/test-virtuoso-api-key")
    everything = json.dumps(await published(services))
    assert not any(value in everything for value in ("first-value", "second-value", "third-value"))


def test_a_rotation_from_the_command_line_is_announced(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    runner = CliRunner()
    for verb in ("set", "rotate"):
        result = runner.invoke(cli, ["secrets", verb, "blob-signing-key", "--generate"])
        assert result.exit_code == 0, result.stderr
    events = asyncio.run(journal_of(tmp_path / "data"))
    assert [(e["type"], e["data"]) for e in events] == [
        ("secret.rotated", {"secret": "local-blob-signing-key", "version": "2"})
    ]


async def test_a_rotation_through_the_facade_is_announced(settings: Settings) -> None:
    async with SecretManagerClient(settings, clock=ManualClock()) as facade:
        await facade.create_secret(SecretType.WEBHOOK_SIGNING_KEY, {"key": "k" * 40}, name="orders")
        await facade.rotate_secret(SecretType.WEBHOOK_SIGNING_KEY, name="orders")
    events = await journal_of(settings.data_dir)
    assert [(e["type"], e["data"]) for e in events] == [
        ("secret.rotated", {"secret": "test-webhook-signing-key-orders", "version": "2"})
    ]
