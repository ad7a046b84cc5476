"""Local links across a rotation of their key: a link names the key version that signed it, keeps
opening after a rotation until that version is retired, and new links use the new version."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from virtuoso_api.errors import Forbidden
from virtuoso_api.kit.clock import ManualClock
from virtuoso_api.secrets import SecretType
from virtuoso_api.services import Services
from virtuoso_api.storage import BucketKind


def _query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


async def test_a_link_survives_a_rotation_until_its_version_is_retired(
    services: Services, client: httpx.AsyncClient, clock: ManualClock
) -> None:
    storage = services.storage
    await storage.write(BucketKind.RESULTS, "r/1.html", b"one", content_type="text/html")
    before = await storage.link(BucketKind.RESULTS, "r/1.html", expires_in=timedelta(days=7))
    assert _query(before)["kv"] == "1"

    ref = services.secrets.ref(SecretType.BLOB_SIGNING_KEY)
    await services.secrets.rotate(ref)
    clock.advance(timedelta(seconds=services.settings.secret_cache_ttl_seconds + 1))  # the cache sees v2
    after = await storage.link(BucketKind.RESULTS, "r/1.html", expires_in=timedelta(days=7))
    assert _query(after)["kv"] == "2"
    for link in (before, after):
        parts = urlsplit(link)
        assert (await client.get(f"{parts.path}?{parts.query}")).status_code == 200

    # Past the rotation's grace period the old version is disabled: its links stop opening.
    clock.advance(timedelta(seconds=services.settings.secret_rotation_grace_seconds + 1))
    await services.secrets.retire(ref)
    bucket = storage.buckets[BucketKind.RESULTS]
    with pytest.raises(Forbidden):
        await storage.serve(bucket, "r/1.html", _query(before), method="GET", content_type=None)
    assert (
        await storage.serve(bucket, "r/1.html", _query(after), method="GET", content_type=None)
    ) is not None
