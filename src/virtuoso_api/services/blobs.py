"""``build_blobs``: the blobs capability the settings pick, with the local links' key from the
secrets store. Used by the root, the CLI's ``storage`` and ``logs`` commands and the facade."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from virtuoso_api.config import Settings
from virtuoso_api.infra.blobs import BlobStore, make_blob_store
from virtuoso_api.kit.clock import Clock
from virtuoso_api.secrets import SecretsService
from virtuoso_api.storage import BlobSigningKeys


@asynccontextmanager
async def build_blobs(
    settings: Settings, *, clock: Clock, secrets: SecretsService
) -> AsyncIterator[BlobStore]:
    """Cloud Storage with ``USE_CLOUD_STORAGE``, else ``DATA_DIR/blobs``; closed on exit. Building it
    contacts nothing (buckets are made at a server's start, ``StorageService.prepare``)."""
    store = make_blob_store(settings, clock=clock, keys=BlobSigningKeys(secrets))
    try:
        yield store
    finally:
        await store.close()
