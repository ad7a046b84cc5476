"""Blob stores for the tests in this folder: the local folder, and Cloud Storage on gcp-storage-emulator.

Both are built the way a deployment builds them: ``build_blobs`` from ``Settings`` (and the secrets
service, whose ``blob-signing-key`` signs the local links). Cloud Storage signs with a throwaway
service-account key made here (``STORAGE_SIGNING_CREDENTIALS_FILE``): no real credential is involved.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from virtuoso_api.config import Environment, Settings
from virtuoso_api.infra.blobs import BlobStore
from virtuoso_api.kit.clock import ManualClock
from virtuoso_api.services.blobs import build_blobs
from virtuoso_api.services.secrets import build_secrets_service

STORES = ["local", pytest.param("cloud_storage", marks=pytest.mark.cloud_storage)]
SIGNER_EMAIL = "signer@demo-test.iam.gserviceaccount.com"


def signing_key_file(folder: Path) -> tuple[Path, rsa.RSAPrivateKey]:
    """A service-account key file with a fresh RSA key (the format ``google-auth`` reads)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    info = {
        "type": "service_account",
        "project_id": "demo-test",
        "private_key_id": uuid.uuid4().hex,
        "private_key": pem,
        "client_email": SIGNER_EMAIL,
        "client_id": "1",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "signer.json"
    path.write_text(json.dumps(info))
    return path, key


def blob_settings(kind: str, request: pytest.FixtureRequest, tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "environment": Environment.TEST,
        "data_dir": tmp_path / "data",
        "remote_retry_deadline_seconds": 2.0,
        "remote_attempt_timeout_seconds": 1.0,
    }
    if kind == "cloud_storage":
        pytest.importorskip("google.cloud.storage", reason="the gcp extra is not installed")
        server = request.getfixturevalue("storage_emulator")
        key_file, _ = signing_key_file(tmp_path / "keys")
        values |= {
            "use_cloud_storage": True,
            "gcp_project_id": "demo-test",
            "storage_emulator_host": server.host,
            "storage_bucket_prefix": request.getfixturevalue("storage_prefix"),
            "storage_signing_credentials_file": key_file,
        }
    return Settings(_env_file=None, **(values | overrides))  # type: ignore[arg-type]


@pytest.fixture
def blob_clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(params=STORES)
async def store(
    request: pytest.FixtureRequest, tmp_path: Path, blob_clock: ManualClock
) -> AsyncIterator[BlobStore]:
    settings = blob_settings(request.param, request, tmp_path)
    async with (
        build_secrets_service(settings, clock=blob_clock) as secrets,
        build_blobs(settings, clock=blob_clock, secrets=secrets) as opened,
    ):
        yield opened


@pytest.fixture
async def bucket(store: BlobStore, request: pytest.FixtureRequest) -> str:
    name = f"b{uuid.uuid4().hex[:12]}"
    await store.ensure_bucket(name)
    return name
