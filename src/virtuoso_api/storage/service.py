"""``StorageService``: what the domains store as blobs, where, and the links to it.

Every write goes through the outbox's ``blobs`` channel: sent now while the store answers, kept in
the "accepted, not yet delivered" log while it does not, and put (in order) by the root's flush once
it answers again, so a report written during a Cloud Storage outage appears after it. A payload
carries the bytes (base64): what is stored this way is small (reports, a day of command logs).

Links are signed: V4 signed URLs on Cloud Storage, the service's own HMAC-signed ``/files/...`` URLs
locally (``infra/blobs/local_urls.py``), absolute on ``PUBLIC_BASE_URL`` either way.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final

from virtuoso_api.config import Settings
from virtuoso_api.errors import InvalidInput, NotFound
from virtuoso_api.infra.blobs import (
    Blob,
    BlobStore,
    LifecycleAction,
    LocalBlobStore,
    Method,
)
from virtuoso_api.infra.outbox import Outbox
from virtuoso_api.kit.clock import Clock
from virtuoso_api.kit.lifecycle import Needs, PeriodicJob
from virtuoso_api.storage.buckets import BucketKind, Buckets
from virtuoso_api.storage.lifecycle import Change, due, rules_from_settings

logger = logging.getLogger(__name__)

CHANNEL: Final = "blobs"
_SWEEP_EVERY_SECONDS: Final = 3600.0
_PAGE: Final = 500


@dataclass(frozen=True, slots=True)
class Stored:
    bucket: str
    name: str
    delivered: bool  # False: accepted into the outbox, put once the store answers


class StorageService:
    def __init__(self, store: BlobStore, *, settings: Settings, clock: Clock, outbox: Outbox) -> None:
        self.store = store
        self.buckets = Buckets.from_settings(settings)
        self.prefix = settings.bucket_prefix
        self.link_lifetime = timedelta(minutes=settings.storage_signed_url_minutes)
        self.rules = rules_from_settings(settings)
        self._clock = clock
        self._channel = outbox.channel(CHANNEL, self._send, refused=(InvalidInput,))

    def needs(self) -> Needs:
        periodic: tuple[PeriodicJob, ...] = ()
        if isinstance(self.store, LocalBlobStore):
            periodic = (PeriodicJob("apply the blobs' lifecycle", _SWEEP_EVERY_SECONDS, self.sweep),)
        return Needs(periodic=periodic, at_start=(self.prepare,))

    async def prepare(self) -> None:
        """Make the buckets that are missing and set their lifecycle rules (at a server's start)."""
        for kind, bucket in self.buckets.names.items():
            await self.store.ensure_bucket(bucket)
            await self.store.set_lifecycle(bucket, self.rules[kind])

    # -- writing and reading -------------------------------------------------------------------
    async def write(
        self,
        kind: BucketKind,
        name: str,
        data: bytes,
        *,
        content_type: str,
        metadata: Mapping[str, str] | None = None,
    ) -> Stored:
        bucket = self.buckets[kind]
        payload = {
            "bucket": bucket,
            "name": name,
            "data": base64.b64encode(data).decode(),
            "content_type": content_type,
            "metadata": dict(metadata or {}),
        }
        delivered = await self._channel.deliver(payload)
        return Stored(bucket, name, delivered)

    async def _send(self, payload: dict[str, Any]) -> None:
        await self.store.put(
            payload["bucket"],
            payload["name"],
            base64.b64decode(payload["data"]),
            content_type=payload["content_type"],
            metadata=payload["metadata"],
        )

    async def ping(self) -> None:
        """Readiness: one listing of the results bucket (what the service's identity may do with
        object admin on the buckets, unlike reading the bucket itself)."""
        await self.store.list(self.buckets[BucketKind.RESULTS], limit=1)

    async def pending(self) -> int:
        """Blobs accepted and not yet in the store."""
        return await self._channel.pending()

    async def link(
        self,
        kind: BucketKind | str,
        name: str,
        *,
        expires_in: timedelta | None = None,
        method: Method = "GET",
        content_type: str | None = None,
    ) -> str:
        bucket = self.bucket(kind)
        return await self.store.signed_url(
            bucket,
            name,
            expires_in=expires_in or self.link_lifetime,
            method=method,
            content_type=content_type,
        )

    def bucket(self, kind: BucketKind | str) -> str:
        if isinstance(kind, BucketKind):
            return self.buckets[kind]
        return self.buckets.resolve(kind, prefix=self.prefix)

    async def serve(
        self, bucket: str, name: str, query: Mapping[str, str], *, method: Method, content_type: str | None
    ) -> Blob | None:
        """A local blob behind a signed ``/files`` URL: :class:`~virtuoso_api.errors.Forbidden` unless
        the signature is valid and unexpired; for a PUT, ``None`` once the body is stored by the
        caller. On Cloud Storage the links point at Google, so nothing is served here."""
        if not isinstance(self.store, LocalBlobStore):
            raise NotFound("blobs are in Cloud Storage: their links point there")
        await self.store.signer.verify(bucket, name, query, method=method, content_type=content_type)
        if method == "PUT":
            return None
        return await self.store.get(bucket, name)

    # -- lifecycle -----------------------------------------------------------------------------
    async def plan(self) -> list[Change]:
        """What the rules would change now (the dry run), bucket by bucket."""
        changes: list[Change] = []
        now = self._clock.now()
        for kind, bucket in self.buckets.names.items():
            rules = self.rules[kind]
            if not rules:
                continue
            token: str | None = None
            while True:
                page = await self.store.list(bucket, limit=_PAGE, page_token=token)
                changes.extend(c for c in (due(info, rules, now) for info in page.blobs) if c is not None)
                token = page.next_token
                if token is None:
                    break
        return changes

    async def sweep(self) -> list[Change]:
        """Apply the rules to the local folder (Cloud Storage applies its bucket rules itself)."""
        if not isinstance(self.store, LocalBlobStore):
            return []
        changes = await self.plan()
        for change in changes:
            if change.action is LifecycleAction.DELETE:
                await self.store.delete(change.bucket, change.name)
            elif change.storage_class is not None:
                await self.store.set_storage_class(change.bucket, change.name, change.storage_class)
        if changes:
            logger.info("blobs lifecycle: %d changes", len(changes))
        return changes
