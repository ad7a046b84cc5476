"""One contract for every blob store (``infra/blobs/port.py``), run against each adapter."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from virtuoso_api.errors import InvalidInput
from virtuoso_api.infra.blobs import BlobNotFound, BlobStore, LifecycleAction, LifecycleRule


async def test_put_get_and_stat_keep_bytes_type_and_metadata(store: BlobStore, bucket: str) -> None:
    data = bytes(range(256)) * 10 + "é\n\x00".encode()
    info = await store.put(
        bucket, "runs/1/result.json", data, content_type="application/json", metadata={"run": "1"}
    )
    assert (info.bucket, info.name, info.size) == (bucket, "runs/1/result.json", len(data))
    assert info.md5_hex == hashlib.md5(data).hexdigest()
    got = await store.get(bucket, "runs/1/result.json")
    assert got.data == data
    assert got.info.content_type == "application/json"
    assert dict(got.info.metadata) == {"run": "1"}
    stat = await store.stat(bucket, "runs/1/result.json")
    assert (stat.size, stat.content_type, dict(stat.metadata)) == (
        len(data),
        "application/json",
        {"run": "1"},
    )
    assert stat.md5_hex == info.md5_hex


async def test_a_streamed_body_is_stored_whole(store: BlobStore, bucket: str) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for index in range(50):
            yield bytes([index]) * 1000

    info = await store.put(bucket, "stream.bin", chunks(), content_type="application/octet-stream")
    assert info.size == 50_000
    assert (await store.get(bucket, "stream.bin")).data == b"".join(bytes([i]) * 1000 for i in range(50))


async def test_a_put_replaces_the_whole_blob(store: BlobStore, bucket: str) -> None:
    await store.put(bucket, "x", b"first, longer", content_type="text/plain", metadata={"a": "1"})
    await store.put(bucket, "x", b"second", content_type="text/html")
    got = await store.get(bucket, "x")
    assert (got.data, got.info.content_type, dict(got.info.metadata)) == (b"second", "text/html", {})


async def test_missing_blobs(store: BlobStore, bucket: str) -> None:
    with pytest.raises(BlobNotFound):
        await store.get(bucket, "nope")
    with pytest.raises(BlobNotFound):
        await store.stat(bucket, "nope")
    with pytest.raises(BlobNotFound):
        await store.copy(bucket, "nope", bucket, "other")
    assert await store.delete(bucket, "nope") is False


async def test_delete_removes_the_blob(store: BlobStore, bucket: str) -> None:
    await store.put(bucket, "gone", b"x")
    assert await store.delete(bucket, "gone") is True
    with pytest.raises(BlobNotFound):
        await store.get(bucket, "gone")
    assert (await store.list(bucket)).blobs == []


async def test_copy(store: BlobStore, bucket: str) -> None:
    await store.put(bucket, "from/a.html", b"<p>hi</p>", content_type="text/html", metadata={"k": "v"})
    copied = await store.copy(bucket, "from/a.html", bucket, "to/b.html")
    assert copied.name == "to/b.html"
    got = await store.get(bucket, "to/b.html")
    assert (got.data, got.info.content_type, dict(got.info.metadata)) == (
        b"<p>hi</p>",
        "text/html",
        {"k": "v"},
    )
    assert (await store.get(bucket, "from/a.html")).data == b"<p>hi</p>"


async def test_list_by_prefix_in_name_order_a_page_at_a_time(store: BlobStore, bucket: str) -> None:
    names = ["logs/2026-01-03.gz", "logs/2026-01-01.gz", "logs/2026-01-02.gz", "logsx", "runs/1/a"]
    for name in names:
        await store.put(bucket, name, name.encode())
    first = await store.list(bucket, "logs/", limit=2)
    assert [info.name for info in first.blobs] == ["logs/2026-01-01.gz", "logs/2026-01-02.gz"]
    assert first.next_token is not None
    second = await store.list(bucket, "logs/", limit=2, page_token=first.next_token)
    assert [info.name for info in second.blobs] == ["logs/2026-01-03.gz"]
    assert second.next_token is None
    everything = await store.list(bucket, limit=100)
    assert [info.name for info in everything.blobs] == sorted(names)
    assert [info.name for info in (await store.list(bucket, "logs")).blobs] == sorted(names)[:4]
    assert (await store.list(bucket, "nothing/")).blobs == []


async def test_names_as_cloud_storage_takes_them(store: BlobStore, bucket: str) -> None:
    """A blob and a "folder" of the same name, spaces, non-ASCII, dots: each its own blob, and no
    name reaches outside its bucket."""
    names = [
        "a",
        "a/b",
        "sp ace/é ü.txt",
        "x/..y",
        "x/.z",
    ]  # the emulator mishandles a//b, %2F and a trailing / (test_local.py)
    for name in names:
        await store.put(bucket, name, name.encode())
    for name in names:
        assert (await store.get(bucket, name)).data == name.encode()
    assert [info.name for info in (await store.list(bucket)).blobs] == sorted(names)


@pytest.mark.parametrize(
    "name", ["", ".", "..", "x/../y", "../../etc/passwd", "a/./b", "new\nline", "x" * 1025]
)
async def test_bad_names_are_refused(store: BlobStore, bucket: str, name: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        await store.put(bucket, name, b"x")
    assert caught.value.field == "name"


async def test_bad_bucket_names_are_refused(store: BlobStore) -> None:
    for bucket in ("UPPER", "a", "../etc", "b/c"):
        with pytest.raises(InvalidInput) as caught:
            await store.put(bucket, "x", b"x")
        assert caught.value.field == "bucket"


async def test_lifecycle_rules_are_kept(store: BlobStore, bucket: str) -> None:
    rules = [
        LifecycleRule(LifecycleAction.SET_STORAGE_CLASS, 30, storage_class="NEARLINE"),
        LifecycleRule(LifecycleAction.DELETE, 365),
    ]
    assert await store.lifecycle(bucket) == []
    await store.set_lifecycle(bucket, rules)
    assert await store.lifecycle(bucket) == rules
    await store.set_lifecycle(bucket, [])
    assert await store.lifecycle(bucket) == []


async def test_signed_urls_are_absolute_and_name_the_blob(store: BlobStore, bucket: str) -> None:
    await store.put(bucket, "r/report.html", b"<html></html>", content_type="text/html")
    url = await store.signed_url(bucket, "r/report.html", expires_in=timedelta(minutes=5))
    assert url.startswith(("http://", "https://"))
    assert f"/{bucket}/r/report.html?" in url
    with pytest.raises(InvalidInput):
        await store.signed_url(bucket, "r/report.html", expires_in=timedelta(days=8))
