"""A run's report: when a run ends its result JSON, JUnit XML and HTML report are stored (in the local
folder, and in Cloud Storage on the emulator), ``GET /api/v1/runs/{id}`` links to them (signed), and a
local link opens only as signed: tampered or expired, it is a 403."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import markupsafe
import pytest

from tests.infra.blobs.conftest import signing_key_file
from tests.runs.conftest import ServedSandbox, add_step, waited
from virtuoso_api.config import Settings
from virtuoso_api.kit.clock import ManualClock
from virtuoso_api.sandbox import FAIL_MARKER, SEED
from virtuoso_api.services import Services
from virtuoso_api.storage import BucketKind


@pytest.fixture(params=["local", pytest.param("cloud_storage", marks=pytest.mark.cloud_storage)])
def settings(settings: Settings, request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    if request.param == "local":
        return settings
    pytest.importorskip("google.cloud.storage", reason="the gcp extra is not installed")
    emulator = request.getfixturevalue("storage_emulator")
    key_file, _ = signing_key_file(tmp_path / "keys")
    return settings.model_copy(
        update={
            "use_cloud_storage": True,
            "gcp_project_id": "demo-test",
            "storage_emulator_host": emulator.host,
            "storage_bucket_prefix": request.getfixturevalue("storage_prefix"),
            "storage_signing_credentials_file": key_file,
        }
    )


async def _open(client: httpx.AsyncClient, url: str, settings: Settings) -> httpx.Response:
    """A link as a browser would open it: locally it is the service's own URL (on PUBLIC_BASE_URL),
    served here by the app in process; on Cloud Storage it is the emulator's."""
    if settings.use_cloud_storage:
        async with httpx.AsyncClient() as outside:
            return await outside.get(url)
    assert url.startswith(settings.links_base_url + "/files/")
    parts = urlsplit(url)
    return await client.get(f"{parts.path}?{parts.query}")


async def test_a_finished_run_has_its_report_json_and_junit_stored_and_linked(
    client: httpx.AsyncClient,
    writer: dict[str, str],
    sandbox: ServedSandbox,
    services: Services,
    settings: Settings,
) -> None:
    await add_step(sandbox, "all good")
    await add_step(sandbox, f"this one breaks {FAIL_MARKER}")
    started = (await client.post("/api/v1/runs", headers=writer, json={"goal_id": SEED.goal_id})).json()
    (execution_id,) = started["execution_ids"]
    view = await waited(client, writer, execution_id)
    assert view["verdict"] == "failed"
    links = view["reports"]
    assert set(links) == {"html", "json", "junit"}

    await services.outbox.flush()  # delivered at once while the store answers; nothing waits
    assert await services.storage.pending() == 0
    bucket = services.storage.buckets[BucketKind.RESULTS]
    stored = await services.storage.store.list(bucket, f"runs/{execution_id}/")
    assert sorted(info.name for info in stored.blobs) == [
        f"runs/{execution_id}/junit.xml",
        f"runs/{execution_id}/report.html",
        f"runs/{execution_id}/result.json",
    ]

    html = await _open(client, links["html"], settings)
    assert html.status_code == 200, html.text
    assert html.headers["content-type"].startswith("text/html")
    page = html.text
    assert f"Virtuoso execution {execution_id}" in page
    assert 'class="outcome failed"' in page
    assert started["runs"][0]["ui_url"] in page  # the Virtuoso link
    assert '<meta name="viewport"' in page
    assert "<script" not in page
    assert "src=" not in page

    result = json.loads((await _open(client, links["json"], settings)).content)
    assert (result["id"], result["outcome"], result["kind"]) == (str(execution_id), "failed", "run")
    statuses = [step["status"] for step in result["steps"]]
    assert statuses[-1] == "failed"
    assert set(statuses[:-1]) == {"passed"}
    error = result["steps"][-1]["error"]
    assert error
    assert str(markupsafe.escape(error)) in page

    rows = page.count('<tr class="')
    assert rows == len(statuses)

    junit = ET.fromstring((await _open(client, links["junit"], settings)).content)
    assert (junit.get("tests"), junit.get("failures")) == (str(len(statuses)), "1")


@pytest.mark.parametrize("settings", ["local"], indirect=True)
async def test_a_local_link_opens_only_as_signed(
    client: httpx.AsyncClient, services: Services, settings: Settings, clock: ManualClock
) -> None:
    await services.storage.write(
        BucketKind.RESULTS, "runs/1/report.html", b"<p>the body</p>", content_type="text/html"
    )
    url = await services.storage.link(
        BucketKind.RESULTS, "runs/1/report.html", expires_in=timedelta(minutes=5)
    )
    opened = await _open(client, url, settings)
    assert (opened.status_code, opened.content) == (200, b"<p>the body</p>")
    assert opened.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'none'" in opened.headers["content-security-policy"]

    tampered = [
        url.replace("runs/1/", "runs/2/"),  # another blob
        url.replace("sig=", "sig=A"),  # another signature
        url.replace("expires=", "expires=9"),  # a later expiry
        url.split("?")[0],  # no signature at all
        url.replace("kv=1", "kv=7"),  # a key version that does not exist
    ]
    for link in tampered:
        refused = await _open(client, link, settings)
        assert refused.status_code == 403, link
        assert refused.json()["error"]["type"] == "forbidden"
        assert "the body" not in refused.text

    clock.advance(timedelta(minutes=5))
    expired = await _open(client, url, settings)
    assert expired.status_code == 403
    assert "expired" in expired.json()["error"]["message"]


@pytest.mark.parametrize("settings", ["local"], indirect=True)
async def test_an_upload_link_stores_its_body_with_the_signed_type_only(
    client: httpx.AsyncClient, services: Services, settings: Settings
) -> None:
    url = await services.storage.link(
        BucketKind.ARCHIVE,
        "up/load.txt",
        method="PUT",
        content_type="text/plain",
        expires_in=timedelta(minutes=1),
    )
    parts = urlsplit(url)
    target = f"{parts.path}?{parts.query}"
    wrong = await client.put(target, content=b"x", headers={"Content-Type": "text/html"})
    assert wrong.status_code == 403
    put = await client.put(target, content=b"uploaded", headers={"Content-Type": "text/plain"})
    assert put.status_code == 200
    got = await services.storage.store.get(services.storage.buckets[BucketKind.ARCHIVE], "up/load.txt")
    assert (got.data, got.info.content_type) == (b"uploaded", "text/plain")
    assert (await client.get(target)).status_code == 403  # an upload link does not read
