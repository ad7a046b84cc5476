"""``virtuoso_api.gcp.get_cloud_storage_client()``: the seed's "Cloud Storage" example as written, in
the local folder and on Cloud Storage (gcp-storage-emulator), every method, and a local link made
here opened by a server in another process sharing the data folder."""

from __future__ import annotations

import gzip
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.infra.blobs.conftest import signing_key_file
from tests.processes import free_port, running
from virtuoso_api.errors import InvalidInput
from virtuoso_api.gcp import close_cloud_storage_client, get_cloud_storage_client
from virtuoso_api.infra.blobs import BlobNotFound

BACKENDS = ["local", pytest.param("cloud_storage", marks=pytest.mark.cloud_storage)]


@pytest.fixture
async def forget_the_process_client() -> AsyncIterator[None]:
    yield
    await close_cloud_storage_client()


def configure(
    backend: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """As a user configures it: environment variables, nothing else."""
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    if backend == "cloud_storage":
        pytest.importorskip("google.cloud.storage", reason="the gcp extra is not installed")
        key_file, _ = signing_key_file(tmp_path / "keys")
        monkeypatch.setenv("USE_CLOUD_STORAGE", "true")
        monkeypatch.setenv("GCP_PROJECT_ID", "demo-test")
        monkeypatch.setenv("STORAGE_EMULATOR_HOST", request.getfixturevalue("storage_emulator").host)
        monkeypatch.setenv("STORAGE_BUCKET_PREFIX", request.getfixturevalue("storage_prefix"))
        monkeypatch.setenv("STORAGE_SIGNING_CREDENTIALS_FILE", str(key_file))


@pytest.mark.usefixtures("forget_the_process_client")
@pytest.mark.parametrize("backend", BACKENDS)
async def test_the_seeds_storage_example_runs_as_written(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, request: pytest.FixtureRequest, backend: str
) -> None:
    configure(backend, monkeypatch, tmp_path, request)
    storage = get_cloud_storage_client()
    services = await storage._open()
    for bucket in services.storage.buckets.names.values():  # a server makes them at its start
        await services.storage.store.ensure_bucket(bucket)
    # --- the seed's "Cloud Storage", with app.gcp spelled virtuoso_api.gcp ---
    from virtuoso_api.gcp import get_cloud_storage_client as get_it

    storage = get_it()

    # Store test results
    url = await storage.store_test_result(
        test_id="test-123",
        result_data={
            "status": "passed",
            "duration": 5432,
            "steps": [{"command": "navigate", "status": "passed"}],
        },
    )

    # Generate signed URL
    signed_url = await storage.generate_signed_url(
        bucket_name="test-results", blob_name="test-123/result.json", expiration_minutes=60
    )
    # ---
    assert "/test-123/result.json?" in url
    assert "/test-123/result.json?" in signed_url
    stored = json.loads(await storage.download_blob("test-results", "test-123/result.json"))
    assert stored == {
        "status": "passed",
        "duration": 5432,
        "steps": [{"command": "navigate", "status": "passed"}],
    }
    if backend == "cloud_storage":
        async with httpx.AsyncClient() as http:
            opened = await http.get(signed_url)
        assert (opened.status_code, opened.json()["duration"]) == (200, 5432)
    else:
        assert signed_url.startswith("http://127.0.0.1:8000/files/local-test-results/test-123/result.json?")


@pytest.mark.usefixtures("forget_the_process_client")
@pytest.mark.parametrize("backend", BACKENDS)
async def test_every_method(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, request: pytest.FixtureRequest, backend: str
) -> None:
    monkeypatch.setenv("ENVIRONMENT", "test")
    configure(backend, monkeypatch, tmp_path, request)
    storage = get_cloud_storage_client()
    services = await storage._open()
    for bucket in services.storage.buckets.names.values():
        await services.storage.store.ensure_bucket(bucket)

    info = await storage.upload_blob("archive", "a/one.txt", "first", metadata={"k": "v"})
    assert (info["size"], info["content_type"], info["metadata"]) == (
        5,
        "text/plain; charset=utf-8",
        {"k": "v"},
    )
    await storage.upload_blob("archive", "a/two.bin", b"\x00\x01", content_type="application/octet-stream")
    await storage.copy_blob("archive", "a/one.txt", "static-assets", "copied.txt")
    assert await storage.download_blob("static-assets", "copied.txt") == b"first"
    listed = await storage.list_blobs("archive", prefix="a/", limit=1)
    assert [blob["name"] for blob in listed["blobs"]] == ["a/one.txt"]
    rest = await storage.list_blobs("archive", prefix="a/", page_token=listed["next_page_token"])
    assert ([blob["name"] for blob in rest["blobs"]], rest["next_page_token"]) == (["a/two.bin"], None)
    assert (await storage.get_blob_info("archive", "a/two.bin"))["size"] == 2
    assert await storage.delete_blob("archive", "a/one.txt") is True
    assert await storage.delete_blob("archive", "a/one.txt") is False
    with pytest.raises(BlobNotFound):
        await storage.download_blob("archive", "a/one.txt")

    link = await storage.store_command_log(
        "run-7", [{"command": "navigate", "ok": True}, {"command": "click"}]
    )
    assert "/logs/run-7.ndjson.gz?" in link
    raw = await storage.download_blob("command-logs", "logs/run-7.ndjson.gz")
    assert [json.loads(line) for line in gzip.decompress(raw).splitlines()] == [
        {"command": "navigate", "ok": True},
        {"command": "click"},
    ]

    with pytest.raises(InvalidInput) as caught:
        await storage.upload_blob("somebody-elses-bucket", "x", b"x")
    assert caught.value.field == "bucket_name"
    with pytest.raises(InvalidInput) as caught:
        await storage.generate_signed_url("test-results", "x", expiration_minutes=0)
    assert caught.value.field == "expiration_minutes"
    with pytest.raises(InvalidInput):
        await storage.store_test_result("../escape", {})


@pytest.mark.usefixtures("forget_the_process_client")
async def test_a_local_link_made_here_opens_in_the_server_of_another_process(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PUBLIC_BASE_URL", base)
    with running("serve", "--port", str(port), ready=f"{base}/health/live", timeout=60):
        storage = get_cloud_storage_client()
        url = await storage.store_test_result("test-9", {"status": "failed"})
        assert url.startswith(f"{base}/files/")
        async with httpx.AsyncClient() as http:
            opened = await http.get(url)
            assert (opened.status_code, opened.json()) == (200, {"status": "failed"})
            tampered = await http.get(url.replace("test-9", "test-8"))
            assert tampered.status_code == 403
