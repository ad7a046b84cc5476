"""``cloud_storage_client``: test results, command logs and any blob, as the seed promised::

    from virtuoso_api.gcp import get_cloud_storage_client

    storage = get_cloud_storage_client()
    url = await storage.store_test_result(
        test_id="test-123", result_data={"status": "passed", "duration": 5432, "steps": [...]}
    )
    signed_url = await storage.generate_signed_url(
        bucket_name="test-results", blob_name="test-123/result.json", expiration_minutes=60
    )

Buckets are named as the settings name them, without the per-environment prefix (``test-results``,
``command-logs``, ``static-assets``, ``archive``), by kind (``results``...), or in full. With
``USE_CLOUD_STORAGE`` they are Cloud Storage buckets and the links V4 signed URLs; without it, folders
under ``DATA_DIR/blobs`` and links to the service's ``/files`` route on ``PUBLIC_BASE_URL``, signed
with the key every process sharing the data folder reads, so the server opens links made here.

``store_test_result`` and ``store_command_log`` write through the outbox: while storage is down the
blob is accepted and stored once it answers (at ``close`` or by a running server's flush), and the
link is returned at once. ``upload_blob`` and the other calls act on the store directly.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any, Literal

from virtuoso_api.errors import InvalidInput
from virtuoso_api.gcp._facade import OnePerProcess, ServicesClient
from virtuoso_api.infra.blobs import DEFAULT_CONTENT_TYPE, BlobInfo, check_name
from virtuoso_api.storage import BucketKind
from virtuoso_api.storage.logs_export import ndjson_gz

__all__ = ["CloudStorageClient", "close_cloud_storage_client", "get_cloud_storage_client"]

JsonDict = dict[str, Any]


class CloudStorageClient(ServicesClient):
    async def store_test_result(
        self,
        test_id: str,
        result_data: Mapping[str, Any] | Sequence[Any],
        *,
        expiration_minutes: int | None = None,
    ) -> str:
        """Store ``result_data`` as ``{test_id}/result.json`` in the results bucket; its signed link."""
        services = await self._open()
        name = check_name(f"{test_id}/result.json", field_name="test_id")
        body = json.dumps(result_data, indent=2, ensure_ascii=False, default=str).encode("utf-8")
        await services.storage.write(
            BucketKind.RESULTS, name, body, content_type="application/json", metadata={"test_id": test_id}
        )
        return await services.storage.link(BucketKind.RESULTS, name, expires_in=_minutes(expiration_minutes))

    async def store_command_log(
        self,
        log_id: str,
        entries: Sequence[Mapping[str, Any]] | Mapping[str, Any],
        *,
        expiration_minutes: int | None = None,
    ) -> str:
        """Store command log entries (one object or a list) as gzip NDJSON, ``logs/{log_id}.ndjson.gz``
        in the command-logs bucket; its signed link. (The service exports its own history per day
        under ``history/``.)"""
        services = await self._open()
        name = check_name(f"logs/{log_id}.ndjson.gz", field_name="log_id")
        records = [dict(entries)] if isinstance(entries, Mapping) else [dict(entry) for entry in entries]
        await services.storage.write(
            BucketKind.COMMAND_LOGS,
            name,
            ndjson_gz(records),
            content_type="application/x-ndjson",
            metadata={"entries": str(len(records)), "content-encoding": "gzip"},
        )
        return await services.storage.link(
            BucketKind.COMMAND_LOGS, name, expires_in=_minutes(expiration_minutes)
        )

    async def upload_blob(
        self,
        bucket_name: str,
        blob_name: str,
        data: bytes | str,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> JsonDict:
        services = await self._open()
        body = data.encode("utf-8") if isinstance(data, str) else data
        kind = content_type or (
            "text/plain; charset=utf-8" if isinstance(data, str) else DEFAULT_CONTENT_TYPE
        )
        bucket = services.storage.bucket(bucket_name)
        return _info(
            await services.storage.store.put(bucket, blob_name, body, content_type=kind, metadata=metadata)
        )

    async def download_blob(self, bucket_name: str, blob_name: str) -> bytes:
        services = await self._open()
        return (await services.storage.store.get(services.storage.bucket(bucket_name), blob_name)).data

    async def get_blob_info(self, bucket_name: str, blob_name: str) -> JsonDict:
        services = await self._open()
        return _info(await services.storage.store.stat(services.storage.bucket(bucket_name), blob_name))

    async def list_blobs(
        self, bucket_name: str, prefix: str = "", limit: int = 100, page_token: str | None = None
    ) -> JsonDict:
        """``{"blobs": [...], "next_page_token": ...}``, names in order."""
        services = await self._open()
        page = await services.storage.store.list(
            services.storage.bucket(bucket_name), prefix, limit=limit, page_token=page_token
        )
        return {"blobs": [_info(info) for info in page.blobs], "next_page_token": page.next_token}

    async def delete_blob(self, bucket_name: str, blob_name: str) -> bool:
        """``True`` if the blob existed."""
        services = await self._open()
        return await services.storage.store.delete(services.storage.bucket(bucket_name), blob_name)

    async def copy_blob(
        self, bucket_name: str, blob_name: str, destination_bucket: str, destination_name: str
    ) -> JsonDict:
        services = await self._open()
        storage = services.storage
        copied = await storage.store.copy(
            storage.bucket(bucket_name), blob_name, storage.bucket(destination_bucket), destination_name
        )
        return _info(copied)

    async def generate_signed_url(
        self,
        bucket_name: str,
        blob_name: str,
        expiration_minutes: int = 60,
        method: Literal["GET", "PUT"] = "GET",
        content_type: str | None = None,
    ) -> str:
        """A link that allows ``method`` on the blob for ``expiration_minutes`` (1 to 10080)."""
        services = await self._open()
        check_name(blob_name, field_name="blob_name")
        return await services.storage.link(
            bucket_name,
            blob_name,
            expires_in=_minutes(expiration_minutes),
            method=method,
            content_type=content_type,
        )


def _minutes(value: int | None) -> timedelta | None:
    if value is None:
        return None
    if not isinstance(value, int) or not 1 <= value <= 7 * 24 * 60:
        raise InvalidInput("expiration_minutes", "must be a whole number from 1 to 10080 (7 days)")
    return timedelta(minutes=value)


def _info(info: BlobInfo) -> JsonDict:
    return {
        "bucket": info.bucket,
        "name": info.name,
        "size": info.size,
        "content_type": info.content_type,
        "metadata": dict(info.metadata),
        "updated": info.updated.isoformat(),
        "md5_hex": info.md5_hex,
        "storage_class": info.storage_class,
    }


_process_client = OnePerProcess(CloudStorageClient)


def get_cloud_storage_client() -> CloudStorageClient:
    """The process's client, built on first call from the environment (``Settings``)."""
    return _process_client.get()


async def close_cloud_storage_client() -> None:
    """Close the process's client (if any) and forget it; the next getter call builds a new one."""
    await _process_client.close()
