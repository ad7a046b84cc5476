"""The blobs port over Google Cloud Storage (``USE_CLOUD_STORAGE``), through ``google-cloud-storage``.

Why the official synchronous client rather than ``gcloud-aio-storage`` (async): every other Google
adapter here uses Google's own client in a worker thread under the resilience kit, and so does this
one. What decides it is signing: ``google-cloud-storage`` makes V4 signed URLs itself, with a
service-account key or, where there is none (Cloud Run), through the IAM ``signBlob`` API given
a signer account and an access token; gcloud-aio-storage's signing needs a key file or
its own IAM client, and would be a second HTTP stack and credential path beside the one every other
adapter uses. Blobs here are small (reports, daily log exports, docs pages), so a thread per call
costs nothing that matters. Each call runs off the event loop, under ``RemoteCall`` (``REMOTE_*``
budget, breaker) with the library's own retries switched off (``retry=None``) so they cannot stack
under ours, and its timeout set to our per-attempt deadline.

Tested against ``gcp-storage-emulator`` (``STORAGE_EMULATOR_HOST``), which serves signed URLs without
checking them: the signatures are checked by recomputing them (``tests/infra/blobs``).
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import tempfile
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, TypeVar

import requests
from google.api_core import exceptions as api_exceptions
from google.auth import exceptions as auth_exceptions

from virtuoso_api.errors import InvalidInput, Misconfigured
from virtuoso_api.infra.blobs.gcp_signing import UrlSigning
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
    check_lifetime,
    check_limit,
    check_metadata,
    check_name,
    decode_token,
    encode_token,
)
from virtuoso_api.resilience import RemoteCall

if TYPE_CHECKING:
    from google.cloud.storage import Client

BACKEND: Final = "cloud_storage"
T = TypeVar("T")
#: Bodies up to this stay in memory before an upload; larger ones spill to a temporary file.
_SPOOL_BYTES: Final = 8 * 1024 * 1024

_TRANSIENT: Final = (
    TimeoutError,
    api_exceptions.ServiceUnavailable,
    api_exceptions.InternalServerError,
    api_exceptions.TooManyRequests,
    api_exceptions.BadGateway,
    api_exceptions.GatewayTimeout,
    auth_exceptions.TransportError,
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
)


def is_transient(exc: BaseException) -> bool:
    return isinstance(exc, _TRANSIENT)


def make_client(*, project: str, emulator_host: str | None) -> Client:
    """The emulator at ``emulator_host`` (anonymous credentials) when given, else Google's endpoint
    with Application Default Credentials."""
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials
    from google.cloud.storage import Client

    if emulator_host:
        endpoint = emulator_host if "://" in emulator_host else f"http://{emulator_host}"
        return Client(
            project=project,
            credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
            client_options=ClientOptions(api_endpoint=endpoint),
        )
    return Client(project=project)


class CloudStorageBlobStore:
    """:class:`~virtuoso_api.infra.blobs.port.BlobStore` over Cloud Storage buckets."""

    backend = BACKEND

    def __init__(
        self,
        client: Client,
        *,
        remote: RemoteCall,
        signing: UrlSigning,
        location: str,
        api_endpoint: str | None = None,
    ) -> None:
        self._client = client
        self._remote = remote
        self._signing = signing
        self._location = location
        self._endpoint = api_endpoint  # the emulator's: signed URLs point at it

    async def _call(self, what: str, work: Callable[[float], T], *, bucket: str) -> T:
        async def attempt(timeout: float) -> T:
            return await asyncio.to_thread(work, timeout)

        try:
            return await self._remote(attempt, what=what, transient=is_transient)
        except api_exceptions.NotFound as exc:
            # A missing blob is answered inside each call; what is left is the bucket itself.
            raise Misconfigured(
                f"Cloud Storage has no bucket {bucket}: a serving process makes its buckets at start-up "
                "when its identity may; else create it (README: Cloud Storage)"
            ) from exc
        except api_exceptions.BadRequest as exc:
            raise InvalidInput("blob", f"Cloud Storage refused it: {exc.message}"[:300]) from exc

    # -- the port ------------------------------------------------------------------------------
    async def ensure_bucket(self, bucket: str) -> None:
        check_bucket(bucket)

        def work(timeout: float) -> None:
            if self._client.lookup_bucket(bucket, timeout=timeout, retry=None) is None:
                with contextlib.suppress(api_exceptions.Conflict):  # made by another instance meanwhile
                    self._client.create_bucket(bucket, location=self._location, timeout=timeout, retry=None)

        await self._call(f"make bucket {bucket}", work, bucket=bucket)

    async def put(
        self,
        bucket: str,
        name: str,
        body: Body,
        *,
        content_type: str = DEFAULT_CONTENT_TYPE,
        metadata: Mapping[str, str] | None = None,
    ) -> BlobInfo:
        check_bucket(bucket)
        check_name(name)
        checked = check_metadata(metadata)
        spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)  # noqa: SIM115 (closed below)
        try:
            if isinstance(body, bytes | bytearray | memoryview):
                spool.write(bytes(body))
            else:
                async for chunk in body:
                    await asyncio.to_thread(spool.write, bytes(chunk))

            def work(timeout: float) -> BlobInfo:
                blob = self._client.bucket(bucket).blob(name)
                blob.metadata = checked or None
                spool.seek(0)
                blob.upload_from_file(
                    spool, content_type=content_type or DEFAULT_CONTENT_TYPE, timeout=timeout, retry=None
                )
                return _info(blob)

            return await self._call(f"put {bucket}/{name}", work, bucket=bucket)
        finally:
            spool.close()

    async def get(self, bucket: str, name: str) -> Blob:
        check_bucket(bucket)
        check_name(name)

        def work(timeout: float) -> Blob:
            # Read what is known of it first, then the bytes of that generation: the two match even
            # if the blob is replaced in between.
            blob = self._client.bucket(bucket).get_blob(name, timeout=timeout, retry=None)
            if blob is None:
                raise BlobNotFound(bucket, name)
            try:
                data = blob.download_as_bytes(timeout=timeout, retry=None)  # of blob.generation
            except api_exceptions.NotFound:
                raise BlobNotFound(bucket, name) from None
            return Blob(_info(blob), data)

        return await self._call(f"get {bucket}/{name}", work, bucket=bucket)

    async def stat(self, bucket: str, name: str) -> BlobInfo:
        check_bucket(bucket)
        check_name(name)

        def work(timeout: float) -> BlobInfo:
            blob = self._client.bucket(bucket).get_blob(name, timeout=timeout, retry=None)
            if blob is None:
                raise BlobNotFound(bucket, name)
            return _info(blob)

        return await self._call(f"stat {bucket}/{name}", work, bucket=bucket)

    async def list(
        self, bucket: str, prefix: str = "", *, limit: int = 100, page_token: str | None = None
    ) -> BlobPage:
        check_bucket(bucket)
        check_limit(limit)

        after = decode_token(page_token)

        def work(timeout: float) -> BlobPage:
            # Paged by name (``startOffset``, inclusive) rather than Cloud Storage's own page token,
            # so the token means the same on every adapter; one more than asked says whether a next
            # page exists. The names are filtered here too: the emulator ignores both parameters.
            iterator = self._client.list_blobs(
                bucket,
                prefix=prefix or None,
                max_results=limit + 1,
                start_offset=after,
                timeout=timeout,
                retry=None,
            )
            found = [blob for blob in iterator if after is None or blob.name >= after]
            found.sort(key=lambda blob: str(blob.name))
            page = [_info(blob) for blob in found[:limit]]
            return BlobPage(page, encode_token(found[limit].name) if len(found) > limit else None)

        return await self._call(f"list {bucket}/{prefix}*", work, bucket=bucket)

    async def delete(self, bucket: str, name: str) -> bool:
        check_bucket(bucket)
        check_name(name)

        def work(timeout: float) -> bool:
            try:
                self._client.bucket(bucket).delete_blob(name, timeout=timeout, retry=None)
            except api_exceptions.NotFound:
                return False
            return True

        return await self._call(f"delete {bucket}/{name}", work, bucket=bucket)

    async def copy(self, bucket: str, name: str, to_bucket: str, to_name: str) -> BlobInfo:
        check_bucket(bucket)
        check_bucket(to_bucket)
        check_name(name)
        check_name(to_name, field_name="to_name")

        def work(timeout: float) -> BlobInfo:
            source = self._client.bucket(bucket)
            try:
                copied = source.copy_blob(
                    source.blob(name), self._client.bucket(to_bucket), to_name, timeout=timeout, retry=None
                )
            except api_exceptions.NotFound:
                if source.get_blob(name, timeout=timeout, retry=None) is None:
                    raise BlobNotFound(bucket, name) from None
                raise  # the source is there: the destination bucket is not
            return _info(copied)

        return await self._call(f"copy {bucket}/{name}", work, bucket=to_bucket)

    async def signed_url(
        self,
        bucket: str,
        name: str,
        *,
        expires_in: timedelta,
        method: Method = "GET",
        content_type: str | None = None,
    ) -> str:
        check_bucket(bucket)
        check_name(name)
        check_lifetime(expires_in)
        blob = self._client.bucket(bucket).blob(name)

        def work(_timeout: float) -> str:
            # Through signBlob it is one call to IAM, under the resilience kit.
            url: str = blob.generate_signed_url(
                version="v4",
                expiration=expires_in,
                method=method,
                content_type=content_type,
                api_access_endpoint=self._endpoint,
                **self._signing.arguments(),
            )
            return url

        if self._signing.mode == "key":
            # Computed here, contacting nothing: not a remote call, so Cloud Storage being down (its
            # breaker open) does not stop a link from being made.
            return await asyncio.to_thread(work, 0.0)
        return await self._call(f"sign a URL for {bucket}/{name}", work, bucket=bucket)

    async def set_lifecycle(self, bucket: str, rules: builtins.list[LifecycleRule]) -> None:
        check_bucket(bucket)

        def work(timeout: float) -> None:
            target = self._client.bucket(bucket)
            target.lifecycle_rules = [rule_to_gcs(rule) for rule in rules]
            target.patch(timeout=timeout, retry=None)

        await self._call(f"set the lifecycle of {bucket}", work, bucket=bucket)

    async def lifecycle(self, bucket: str) -> builtins.list[LifecycleRule]:
        check_bucket(bucket)

        def work(timeout: float) -> builtins.list[LifecycleRule]:
            found = self._client.get_bucket(bucket, timeout=timeout, retry=None)
            return [rule for rule in map(rule_from_gcs, found.lifecycle_rules) if rule is not None]

        return await self._call(f"read the lifecycle of {bucket}", work, bucket=bucket)

    async def close(self) -> None:
        await asyncio.to_thread(self._client.close)


def _info(blob: Any) -> BlobInfo:
    updated = blob.updated or datetime.now(UTC)
    return BlobInfo(
        bucket=blob.bucket.name,
        name=blob.name,
        size=int(blob.size or 0),
        content_type=blob.content_type or DEFAULT_CONTENT_TYPE,
        metadata=dict(blob.metadata or {}),
        updated=updated,
        md5_hex=_md5_hex(blob.md5_hash),
        storage_class=blob.storage_class or "STANDARD",
    )


def _md5_hex(md5_b64: str | None) -> str:
    import base64

    return base64.b64decode(md5_b64).hex() if md5_b64 else ""


def rule_to_gcs(rule: LifecycleRule) -> dict[str, Any]:
    condition: dict[str, Any] = {"age": rule.age_days}
    if rule.prefix:
        condition["matchesPrefix"] = [rule.prefix]
    if rule.action is LifecycleAction.DELETE:
        return {"action": {"type": "Delete"}, "condition": condition}
    return {"action": {"type": "SetStorageClass", "storageClass": rule.storage_class}, "condition": condition}


def rule_from_gcs(rule: Mapping[str, Any]) -> LifecycleRule | None:
    action = rule.get("action", {})
    condition = rule.get("condition", {})
    prefixes = condition.get("matchesPrefix") or [None]
    if "age" not in condition:
        return None  # a rule set by hand on another condition: not one of ours
    if action.get("type") == "Delete":
        return LifecycleRule(LifecycleAction.DELETE, int(condition["age"]), prefix=prefixes[0])
    if action.get("type") == "SetStorageClass":
        return LifecycleRule(
            LifecycleAction.SET_STORAGE_CLASS,
            int(condition["age"]),
            storage_class=action.get("storageClass"),
            prefix=prefixes[0],
        )
    return None
