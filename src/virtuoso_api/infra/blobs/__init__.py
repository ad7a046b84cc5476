"""The blobs capability: port, the local folder (with its HMAC-signed URLs), and the store factory.

``make_blob_store`` picks the adapter; ``services/blobs.py`` (``build_blobs``) gives it the signing
key from the secrets store and the outbox channel every write goes through.
"""

from __future__ import annotations

import importlib
from datetime import timedelta

from virtuoso_api.config import Settings
from virtuoso_api.errors import Misconfigured
from virtuoso_api.infra.blobs.local import LocalBlobStore
from virtuoso_api.infra.blobs.local_urls import FILES_PATH, KeyRing, LocalUrlSigner
from virtuoso_api.infra.blobs.port import (
    DEFAULT_CONTENT_TYPE,
    MAX_SIGNED_URL_LIFETIME,
    Blob,
    BlobInfo,
    BlobNotFound,
    BlobPage,
    BlobStore,
    Body,
    LifecycleAction,
    LifecycleRule,
    Method,
    check_bucket,
    check_name,
)
from virtuoso_api.kit.clock import Clock
from virtuoso_api.resilience import CircuitBreaker, RemoteCall, RetryBudget

__all__ = [
    "DEFAULT_CONTENT_TYPE",
    "FILES_PATH",
    "MAX_SIGNED_URL_LIFETIME",
    "Blob",
    "BlobInfo",
    "BlobNotFound",
    "BlobPage",
    "BlobStore",
    "Body",
    "KeyRing",
    "LifecycleAction",
    "LifecycleRule",
    "LocalBlobStore",
    "LocalUrlSigner",
    "Method",
    "check_blobs",
    "check_bucket",
    "check_name",
    "local_blob_store",
    "make_blob_store",
]


def local_blob_store(settings: Settings, *, clock: Clock, keys: KeyRing) -> LocalBlobStore:
    """Files under ``DATA_DIR/blobs``, links on ``PUBLIC_BASE_URL`` signed with ``keys``."""
    signer = LocalUrlSigner(keys, base_url=settings.links_base_url, clock=clock)
    return LocalBlobStore(settings.data_dir / "blobs", signer=signer, clock=clock)


def check_blobs(settings: Settings) -> None:
    """Raise :class:`Misconfigured` if the blobs cannot be used as configured: the Google libraries
    missing, or a signing key file that is not there. Called before start-up too, so ``serve``
    refuses in one line instead of failing in its lifespan."""
    if not settings.use_cloud_storage:
        return
    try:
        importlib.import_module("google.cloud.storage")
    except ImportError as exc:
        raise Misconfigured(
            "USE_CLOUD_STORAGE is on but the Google Cloud libraries are missing: "
            "pip install 'virtuoso-api[gcp]'"
        ) from exc
    key_file = settings.storage_signing_credentials_file
    if key_file is not None and not key_file.is_file():
        raise Misconfigured(f"STORAGE_SIGNING_CREDENTIALS_FILE: {key_file} is not a readable file")


def make_blob_store(settings: Settings, *, clock: Clock, keys: KeyRing) -> BlobStore:
    """Cloud Storage with ``USE_CLOUD_STORAGE`` (every call through the resilience kit with the
    ``REMOTE_*`` budget and ``BREAKER_COOLDOWN_SECONDS``), else the local folder. Building it
    contacts nothing."""
    if not settings.use_cloud_storage:
        return local_blob_store(settings, clock=clock, keys=keys)
    check_blobs(settings)
    # Imported here: the google libraries are the optional ``gcp`` extra.
    from virtuoso_api.infra.blobs.gcp_signing import UrlSigning
    from virtuoso_api.infra.blobs.gcp_storage import BACKEND, CloudStorageBlobStore, make_client

    assert settings.gcp_project_id is not None  # Settings refuses a USE_* flag without it
    remote = RemoteCall(
        BACKEND,
        budget=RetryBudget(
            deadline_seconds=settings.remote_retry_deadline_seconds,
            attempt_seconds=settings.remote_attempt_timeout_seconds,
        ),
        breaker=CircuitBreaker(
            BACKEND, clock=clock, cooldown=timedelta(seconds=settings.breaker_cooldown_seconds)
        ),
    )
    client = make_client(project=settings.gcp_project_id, emulator_host=settings.storage_emulator_host)
    signing = UrlSigning(
        key_file=settings.storage_signing_credentials_file,
        service_account_email=settings.storage_signing_service_account,
        client_credentials=client._credentials,
    )
    endpoint = settings.storage_emulator_host
    if endpoint and "://" not in endpoint:
        endpoint = f"http://{endpoint}"
    return CloudStorageBlobStore(
        client, remote=remote, signing=signing, location=settings.gcp_location, api_endpoint=endpoint
    )
