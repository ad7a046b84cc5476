"""The local folder's own promises: names stay inside their bucket's folder, every name Cloud Storage
takes has a file of its own, and a put is atomic."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from virtuoso_api.infra.blobs import BlobStore, LocalBlobStore


@pytest.fixture(params=["local"])
def local(store: BlobStore) -> LocalBlobStore:
    assert isinstance(store, LocalBlobStore)
    return store


def _files(root: Path) -> set[Path]:
    return {Path(folder) / name for folder, _, names in os.walk(root) for name in names}


@pytest.mark.parametrize("store", ["local"], indirect=True)
async def test_names_that_look_like_paths_stay_inside_the_bucket(local: LocalBlobStore, bucket: str) -> None:
    names = ["a//b", "a/b", "a", "trailing/", "percent%2F/q", "%", "..x/y", "~/.ssh/id", "/abs", "a\\..\\b"]
    for name in names:
        await local.put(bucket, name, name.encode())
    for name in names:
        assert (await local.get(bucket, name)).data == name.encode()
    bucket_dir = (local.root / bucket).resolve()
    for path in _files(local.root.parent):
        if path.name.endswith("!") or path.name.endswith("!.json"):
            assert path.resolve().is_relative_to(bucket_dir), path
    assert [info.name for info in (await local.list(bucket)).blobs] == sorted(names)


@pytest.mark.parametrize("store", ["local"], indirect=True)
async def test_a_failed_put_leaves_the_old_blob_and_no_temporary_file(
    local: LocalBlobStore, bucket: str
) -> None:
    await local.put(bucket, "r/report.html", b"old", content_type="text/html")

    async def broken() -> object:
        yield b"half of the new"
        raise RuntimeError("the writer died")

    with pytest.raises(RuntimeError):
        await local.put(bucket, "r/report.html", broken())  # type: ignore[arg-type]
    got = await local.get(bucket, "r/report.html")
    assert (got.data, got.info.content_type) == (b"old", "text/html")
    leftovers = [path for path in _files(local.root) if "tmp-" in path.name]
    assert leftovers == []
