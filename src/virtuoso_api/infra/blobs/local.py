"""The blobs port over files: ``DATA_DIR/blobs/<bucket>/...``, the default.

Layout: each ``/``-separated segment of a blob's name is a folder, percent-encoded (``quote`` with no
safe characters, so no segment is ``.`` or ``..`` or holds ``/``); the blob's bytes are the file
``<last segment>!`` and its content type and metadata the JSON file ``<last segment>!.json`` beside
it. ``!`` never appears in an encoded segment, so ``a`` (a blob) and ``a/b`` (another) live side by
side as they do in Cloud Storage, and a name from a user can never reach outside its bucket's folder
(every path is also checked to resolve under it).

Writes are atomic: the bytes go to a temporary file in the same folder, are flushed to disk, and
replace the blob by ``rename``; the metadata is written the same way first, so a crash leaves the old
blob or the new one, never half of one (at worst the new metadata beside the old bytes, which the
next put of that blob replaces). Lifecycle rules are kept in ``<bucket>/.lifecycle.json`` and applied
by the service's periodic sweeper (``storage/lifecycle.py``): a folder has no lifecycle of its own.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import hashlib
import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO, Final
from urllib.parse import quote, unquote

from virtuoso_api.errors import InvalidInput
from virtuoso_api.infra.blobs.local_urls import LocalUrlSigner
from virtuoso_api.infra.blobs.port import (
    DEFAULT_CONTENT_TYPE,
    Blob,
    BlobInfo,
    BlobNotFound,
    BlobPage,
    Body,
    LifecycleAction,
    LifecycleRule,
    Method,
    check_bucket,
    check_limit,
    check_metadata,
    check_name,
    decode_token,
    encode_token,
)
from virtuoso_api.kit.clock import Clock
from virtuoso_api.kit.files import private_dir

BACKEND: Final = "local_blobs"
_DATA: Final = "!"
_META: Final = "!.json"
_LIFECYCLE: Final = ".lifecycle.json"
_SEGMENT_BYTES: Final = 240  # a file name is at most 255 bytes, with room for the suffixes


def _segment(text: str) -> str:
    if text == "":
        return "%"  # an empty segment (a//b); a lone % is never produced by quote
    encoded = quote(text, safe="")
    if encoded in (".", ".."):
        encoded = encoded.replace(".", "%2E")
    if len(encoded.encode()) > _SEGMENT_BYTES:
        raise InvalidInput("name", "each /-separated part must be at most 80 characters in local storage")
    return encoded


def _unsegment(text: str) -> str:
    return "" if text == "%" else unquote(text)


class LocalBlobStore:
    """:class:`~virtuoso_api.infra.blobs.port.BlobStore` over files under ``root``."""

    backend = BACKEND

    def __init__(self, root: Path, *, signer: LocalUrlSigner, clock: Clock) -> None:
        self.root = root
        self.signer = signer
        self._clock = clock  # a blob's time is the service's (a file's mtime, set from it)

    # -- paths ---------------------------------------------------------------------------------
    def _bucket_dir(self, bucket: str) -> Path:
        return self.root / check_bucket(bucket)

    def _paths(self, bucket: str, name: str) -> tuple[Path, Path]:
        check_name(name)
        base = self._bucket_dir(bucket)
        parts = [_segment(part) for part in name.split("/")]
        folder = base.joinpath(*parts[:-1])
        data, meta = folder / (parts[-1] + _DATA), folder / (parts[-1] + _META)
        # Belt and braces: encoding already makes an escape impossible.
        if not data.resolve().is_relative_to(base.resolve()):
            raise InvalidInput("name", "must stay inside its bucket")
        return data, meta

    # -- the port ------------------------------------------------------------------------------
    async def ensure_bucket(self, bucket: str) -> None:
        await asyncio.to_thread(private_dir, self._bucket_dir(bucket))

    async def put(
        self,
        bucket: str,
        name: str,
        body: Body,
        *,
        content_type: str = DEFAULT_CONTENT_TYPE,
        metadata: Mapping[str, str] | None = None,
    ) -> BlobInfo:
        data_path, meta_path = self._paths(bucket, name)
        checked = check_metadata(metadata)
        await asyncio.to_thread(private_dir, data_path.parent)
        temporary = data_path.parent / f"{_DATA}tmp-{secrets.token_hex(8)}"
        digest = hashlib.md5(usedforsecurity=False)
        size = 0
        handle = await asyncio.to_thread(temporary.open, "wb")
        try:
            if isinstance(body, bytes | bytearray | memoryview):
                chunk = bytes(body)
                digest.update(chunk)
                size = len(chunk)
                await asyncio.to_thread(handle.write, chunk)
            else:
                async for part in body:
                    chunk = bytes(part)
                    digest.update(chunk)
                    size += len(chunk)
                    await asyncio.to_thread(handle.write, chunk)
            await asyncio.to_thread(_flush, handle)
        except BaseException:
            handle.close()
            temporary.unlink(missing_ok=True)
            raise
        handle.close()
        now = self._clock.now()
        await asyncio.to_thread(os.utime, temporary, (now.timestamp(), now.timestamp()))
        info = BlobInfo(
            bucket=bucket,
            name=name,
            size=size,
            content_type=content_type or DEFAULT_CONTENT_TYPE,
            metadata=checked,
            updated=now,
            md5_hex=digest.hexdigest(),
        )
        await asyncio.to_thread(_write_json, meta_path, _meta_of(info))
        await asyncio.to_thread(os.replace, temporary, data_path)
        return info

    async def get(self, bucket: str, name: str) -> Blob:
        data_path, meta_path = self._paths(bucket, name)
        try:
            data = await asyncio.to_thread(data_path.read_bytes)
        except (FileNotFoundError, NotADirectoryError):
            raise BlobNotFound(bucket, name) from None
        return Blob(await asyncio.to_thread(self._info, bucket, name, data_path, meta_path), data)

    async def stat(self, bucket: str, name: str) -> BlobInfo:
        data_path, meta_path = self._paths(bucket, name)
        return await asyncio.to_thread(self._info, bucket, name, data_path, meta_path)

    async def list(
        self, bucket: str, prefix: str = "", *, limit: int = 100, page_token: str | None = None
    ) -> BlobPage:
        check_limit(limit)
        after = decode_token(page_token)
        base = self._bucket_dir(bucket)
        names = await asyncio.to_thread(_names_under, base, prefix)
        chosen = [name for name in names if after is None or name >= after][: limit + 1]
        page = chosen[:limit]
        infos = []
        for name in page:
            data_path, meta_path = self._paths(bucket, name)
            with contextlib.suppress(BlobNotFound):  # deleted since the walk
                infos.append(await asyncio.to_thread(self._info, bucket, name, data_path, meta_path))
        token = encode_token(chosen[limit]) if len(chosen) > limit else None
        return BlobPage(infos, token)

    async def delete(self, bucket: str, name: str) -> bool:
        data_path, meta_path = self._paths(bucket, name)
        existed = await asyncio.to_thread(_unlink, data_path)
        await asyncio.to_thread(_unlink, meta_path)
        return existed

    async def copy(self, bucket: str, name: str, to_bucket: str, to_name: str) -> BlobInfo:
        check_name(to_name, field_name="to_name")
        source = await self.get(bucket, name)
        return await self.put(
            to_bucket,
            to_name,
            source.data,
            content_type=source.info.content_type,
            metadata=source.info.metadata,
        )

    async def signed_url(
        self,
        bucket: str,
        name: str,
        *,
        expires_in: timedelta,
        method: Method = "GET",
        content_type: str | None = None,
    ) -> str:
        self._paths(bucket, name)
        return await self.signer.sign(
            bucket, name, expires_in=expires_in, method=method, content_type=content_type
        )

    async def set_lifecycle(self, bucket: str, rules: builtins.list[LifecycleRule]) -> None:
        base = self._bucket_dir(bucket)
        await asyncio.to_thread(private_dir, base)
        stored = [{k: v for k, v in asdict(rule).items() if v is not None} for rule in rules]
        await asyncio.to_thread(_write_json, base / _LIFECYCLE, {"rules": stored})

    async def lifecycle(self, bucket: str) -> builtins.list[LifecycleRule]:
        path = self._bucket_dir(bucket) / _LIFECYCLE
        try:
            stored = json.loads(await asyncio.to_thread(path.read_bytes))
        except FileNotFoundError:
            return []
        return [
            LifecycleRule(
                action=LifecycleAction(rule["action"]),
                age_days=int(rule["age_days"]),
                storage_class=rule.get("storage_class"),
                prefix=rule.get("prefix"),
            )
            for rule in stored.get("rules", [])
        ]

    async def set_storage_class(self, bucket: str, name: str, storage_class: str) -> None:
        """The sweeper's "colder class" on a folder: recorded in the metadata file (a file has no
        class; the record makes ``stat`` and a dry run tell the truth about what the rule did)."""
        data_path, meta_path = self._paths(bucket, name)
        info = await asyncio.to_thread(self._info, bucket, name, data_path, meta_path)
        moved = {**_meta_of(info), "storage_class": storage_class}
        await asyncio.to_thread(_write_json, meta_path, moved)

    async def close(self) -> None:
        return None

    # -- helpers -------------------------------------------------------------------------------
    def _info(self, bucket: str, name: str, data_path: Path, meta_path: Path) -> BlobInfo:
        try:
            stat = data_path.stat()
        except (FileNotFoundError, NotADirectoryError):
            raise BlobNotFound(bucket, name) from None
        try:
            meta: dict[str, Any] = json.loads(meta_path.read_bytes())
        except (FileNotFoundError, ValueError):
            meta = {}
        return BlobInfo(
            bucket=bucket,
            name=name,
            size=stat.st_size,
            content_type=meta.get("content_type", DEFAULT_CONTENT_TYPE),
            metadata=dict(meta.get("metadata", {})),
            # The file's time, not the metadata's: a sweeper ages what is on disk.
            updated=datetime.fromtimestamp(stat.st_mtime, UTC),
            md5_hex=meta.get("md5_hex", ""),
            storage_class=meta.get("storage_class", "STANDARD"),
        )


def _meta_of(info: BlobInfo) -> dict[str, Any]:
    return {
        "content_type": info.content_type,
        "metadata": dict(info.metadata),
        "md5_hex": info.md5_hex,
        "storage_class": info.storage_class,
    }


def _flush(handle: BinaryIO) -> None:
    handle.flush()
    os.fsync(handle.fileno())


def _write_json(path: Path, value: Any) -> None:
    temporary = path.parent / f"{_DATA}tmp-{secrets.token_hex(8)}"
    with temporary.open("wb") as handle:
        handle.write(json.dumps(value, sort_keys=True).encode())
        _flush(handle)
    os.replace(temporary, path)


def _unlink(path: Path) -> bool:
    try:
        path.unlink()
    except (FileNotFoundError, NotADirectoryError):
        return False
    return True


def _names_under(base: Path, prefix: str) -> list[str]:
    """Every blob name in the bucket's folder starting with ``prefix``, sorted. The walk starts at
    the deepest folder the prefix names, so listing one run's blobs does not read the whole bucket."""
    folders = prefix.split("/")[:-1]
    start = base.joinpath(*(_segment(part) for part in folders)) if folders else base
    found: list[str] = []
    for folder, _dirs, files in os.walk(start):
        relative = Path(folder).relative_to(base).parts
        head = [_unsegment(part) for part in relative]
        for file in files:
            if file.endswith(_DATA) and not file.startswith(_DATA):
                name = "/".join([*head, _unsegment(file[: -len(_DATA)])])
                if name.startswith(prefix):
                    found.append(name)
    return sorted(found)
