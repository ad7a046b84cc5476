"""Cloud Storage stops while a run is followed: the run still ends and answers with its report's
links, the report's three blobs wait in the outbox (nothing lost, nothing made up), and they are in
the bucket once storage is back and the outbox is flushed."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from tests.infra.blobs.conftest import signing_key_file
from tests.runs.conftest import ServedSandbox, add_step, waited
from virtuoso_api.config import Settings
from virtuoso_api.kit.clock import ManualClock
from virtuoso_api.sandbox import SEED
from virtuoso_api.services import Services
from virtuoso_api.storage import BucketKind

pytestmark = pytest.mark.cloud_storage


@pytest.fixture
def settings(settings: Settings, request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    pytest.importorskip("google.cloud.storage", reason="the gcp extra is not installed")
    emulator = request.getfixturevalue("private_storage_emulator")
    key_file, _ = signing_key_file(tmp_path / "keys")
    return settings.model_copy(
        update={
            "use_cloud_storage": True,
            "gcp_project_id": "demo-test",
            "storage_emulator_host": emulator.host,
            "storage_bucket_prefix": "outage-",
            "storage_signing_credentials_file": key_file,
            "remote_retry_deadline_seconds": 1.0,
            "remote_attempt_timeout_seconds": 0.5,
        }
    )


async def test_reports_written_while_storage_is_down_appear_after_it_is_back(
    client: httpx.AsyncClient,
    writer: dict[str, str],
    sandbox: ServedSandbox,
    services: Services,
    clock: ManualClock,
    request: pytest.FixtureRequest,
) -> None:
    emulator = request.getfixturevalue("private_storage_emulator")
    await services.storage.prepare()  # the buckets, as a server's start makes them
    bucket = services.storage.buckets[BucketKind.RESULTS]
    await add_step(sandbox, "one")
    started = (await client.post("/api/v1/runs", headers=writer, json={"goal_id": SEED.goal_id})).json()
    (execution_id,) = started["execution_ids"]

    emulator.stop()  # mid-run
    view = await waited(client, writer, execution_id)
    assert view["verdict"] == "passed"
    assert set(view["reports"]) == {"html", "json", "junit"}  # signed with the key: no call to storage
    assert await services.storage.pending() == 3  # accepted, not yet delivered
    assert await services.outbox.flush() == 0  # still down: nothing lands, nothing is dropped
    assert await services.storage.pending() == 3
    ready = await client.get("/health/ready")
    assert ready.status_code == 503
    blobs = ready.json()["backends"]["blobs"]
    assert (blobs["backend"], blobs["status"], blobs["pending_blobs"]) == ("cloud_storage", "unavailable", 3)
    assert blobs["check"] == "STORAGE_EMULATOR_HOST"

    emulator.start()
    clock.advance(timedelta(seconds=60))  # past the breaker's cooldown (on the service's clock)
    assert await services.outbox.flush() >= 3
    assert await services.storage.pending() == 0
    blobs = (await client.get("/health/ready")).json()["backends"]["blobs"]
    assert (blobs["status"], blobs["pending_blobs"]) == ("ok", 0)
    listed = await services.storage.store.list(bucket, f"runs/{execution_id}/")
    assert sorted(info.name.rsplit("/", 1)[1] for info in listed.blobs) == [
        "junit.xml",
        "report.html",
        "result.json",
    ]
    async with httpx.AsyncClient() as outside:
        opened = await outside.get(view["reports"]["html"])
    assert opened.status_code == 200
    assert f"Virtuoso execution {execution_id}" in opened.text
    assert "passed" in opened.text
