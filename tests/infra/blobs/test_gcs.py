"""Cloud Storage's V4 signed URLs, checked by recomputing them: the emulator serves signed URLs
without checking them, so the signature is verified here against Google's published algorithm
(canonical request → string to sign → RSA-SHA256 with the service account's key), independently of
the library that made it. The URL is also opened on the emulator, and an upload URL used. And what
only Cloud Storage has: a bucket that does not exist, named in the error."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlsplit

import httpx
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.infra.blobs.conftest import SIGNER_EMAIL, signing_key_file
from virtuoso_api.config import Environment, Settings
from virtuoso_api.infra.blobs import make_blob_store
from virtuoso_api.kit.clock import ManualClock

pytestmark = pytest.mark.cloud_storage


def string_to_sign(url: str, method: str, headers: dict[str, str] | None = None) -> tuple[str, bytes]:
    """Google's V4 algorithm (cloud.google.com/storage/docs/access-control/signing-urls-manually)."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    signature = query.pop("X-Goog-Signature")
    canonical_query = "&".join(
        f"{quote(key, safe='-_.~')}={quote(value, safe='-_.~')}" for key, value in sorted(query.items())
    )
    signed = {"host": parts.netloc} | {name.lower(): value for name, value in (headers or {}).items()}
    signed_headers = ";".join(sorted(signed))
    assert query["X-Goog-SignedHeaders"] == signed_headers
    canonical_headers = "".join(f"{name}:{signed[name]}\n" for name in sorted(signed))
    canonical_request = "\n".join(
        [method, parts.path, canonical_query, canonical_headers, signed_headers, "UNSIGNED-PAYLOAD"]
    )
    scope = query["X-Goog-Credential"].split("/", 1)[1]
    text = "\n".join(
        [
            "GOOG4-RSA-SHA256",
            query["X-Goog-Date"],
            scope,
            hashlib.sha256(canonical_request.encode()).hexdigest(),
        ]
    )
    return signature, text.encode()


def verify(url: str, method: str, key: rsa.RSAPrivateKey, headers: dict[str, str] | None = None) -> None:
    signature, message = string_to_sign(url, method, headers)
    key.public_key().verify(bytes.fromhex(signature), message, padding.PKCS1v15(), hashes.SHA256())


@pytest.fixture
def signing(tmp_path: Path, request: pytest.FixtureRequest, storage_emulator, storage_prefix: str):
    key_file, key = signing_key_file(tmp_path / "keys")
    settings = Settings(
        _env_file=None,
        environment=Environment.TEST,
        data_dir=tmp_path / "data",
        use_cloud_storage=True,
        gcp_project_id="demo-test",
        storage_emulator_host=storage_emulator.host,
        storage_signing_credentials_file=key_file,
    )
    return settings, key


async def test_v4_signatures_recompute_and_the_urls_open(signing, storage_prefix: str) -> None:
    settings, key = signing
    store = make_blob_store(settings, clock=ManualClock(), keys=None)  # type: ignore[arg-type]
    bucket = f"{storage_prefix}signed"
    await store.ensure_bucket(bucket)
    await store.put(bucket, "runs/7/report.html", b"<h1>7</h1>", content_type="text/html")
    url = await store.signed_url(bucket, "runs/7/report.html", expires_in=timedelta(minutes=15))
    query = dict(parse_qsl(urlsplit(url).query))
    assert query["X-Goog-Algorithm"] == "GOOG4-RSA-SHA256"
    assert query["X-Goog-Expires"] == "900"
    assert query["X-Goog-Credential"].startswith(f"{SIGNER_EMAIL}/")
    verify(url, "GET", key)
    # One changed character anywhere signed no longer verifies.
    with pytest.raises(InvalidSignature):
        verify(url.replace("runs/7", "runs/8"), "GET", key)
    with pytest.raises(InvalidSignature):
        verify(url.replace("X-Goog-Expires=900", "X-Goog-Expires=9000"), "GET", key)
    async with httpx.AsyncClient() as client:
        opened = await client.get(url)
        assert (opened.status_code, opened.content) == (200, b"<h1>7</h1>")
        upload = await store.signed_url(
            bucket, "uploads/u.txt", expires_in=timedelta(minutes=5), method="PUT", content_type="text/plain"
        )
        verify(upload, "PUT", key, {"Content-Type": "text/plain"})  # the type is signed too
        with pytest.raises(InvalidSignature):
            verify(upload, "PUT", key, {"Content-Type": "text/html"})
        put = await client.put(upload, content=b"uploaded", headers={"Content-Type": "text/plain"})
        assert put.status_code == 200
    assert (await store.get(bucket, "uploads/u.txt")).data == b"uploaded"
    await store.close()


async def test_without_a_key_or_a_service_account_signing_is_refused_naming_both(
    tmp_path: Path, storage_emulator
) -> None:
    from virtuoso_api.errors import Misconfigured

    settings = Settings(
        _env_file=None,
        environment=Environment.TEST,
        data_dir=tmp_path / "data",
        use_cloud_storage=True,
        gcp_project_id="demo-test",
        storage_emulator_host=storage_emulator.host,
    )
    store = make_blob_store(settings, clock=ManualClock(), keys=None)  # type: ignore[arg-type]
    with pytest.raises(Misconfigured) as caught:
        await store.signed_url("any-bucket", "x", expires_in=timedelta(minutes=1))
    assert "STORAGE_SIGNING_SERVICE_ACCOUNT" in caught.value.message
    assert "STORAGE_SIGNING_CREDENTIALS_FILE" in caught.value.message
    await store.close()


async def test_a_missing_bucket_is_named_not_a_google_error(signing, storage_prefix: str) -> None:
    from virtuoso_api.errors import Misconfigured

    settings, _ = signing
    store = make_blob_store(settings, clock=ManualClock(), keys=None)  # type: ignore[arg-type]
    there = f"{storage_prefix}there"
    await store.ensure_bucket(there)
    await store.put(there, "x", b"x")
    for attempt in (
        store.put(f"{storage_prefix}nowhere", "x", b"x"),
        store.list(f"{storage_prefix}nowhere"),
        store.copy(there, "x", f"{storage_prefix}nowhere", "y"),
    ):
        with pytest.raises(Misconfigured) as caught:
            await attempt
        assert f"no bucket {storage_prefix}nowhere" in caught.value.message
    await store.close()
