"""Lifecycle from the settings: the local sweeper deletes and moves what the rules say and nothing
else (on the service's clock), a dry run changes nothing, and on Cloud Storage (the emulator) the
rules are set on the buckets and read back."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from tests.infra.blobs.conftest import STORES, blob_settings
from virtuoso_api.infra.blobs import BlobNotFound, LifecycleAction, LifecycleRule
from virtuoso_api.infra.outbox import build_outbox
from virtuoso_api.kit.clock import ManualClock
from virtuoso_api.services.blobs import build_blobs
from virtuoso_api.services.secrets import build_secrets_service
from virtuoso_api.storage import BucketKind, StorageService


@contextlib.asynccontextmanager
async def opened(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[StorageService]:
    settings = blob_settings(
        kind,
        request,
        tmp_path,
        storage_results_colder_after_days=30,
        storage_results_delete_after_days=365,
        storage_logs_delete_after_days=90,
    )
    async with contextlib.AsyncExitStack() as stack:
        secrets = await stack.enter_async_context(build_secrets_service(settings, clock=clock))
        outbox = await stack.enter_async_context(build_outbox(settings, clock=clock))
        store = await stack.enter_async_context(build_blobs(settings, clock=clock, secrets=secrets))
        yield StorageService(store, settings=settings, clock=clock, outbox=outbox)


async def test_the_local_sweeper_acts_on_age_and_leaves_the_rest(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    clock = ManualClock()
    async with opened("local", request, tmp_path, clock) as storage:
        await storage.prepare()
        buckets = storage.buckets
        for kind in BucketKind:
            await storage.write(kind, "old", b"written on day 0", content_type="text/plain")
        clock.advance(timedelta(days=340))
        for kind in BucketKind:
            await storage.write(kind, "new", b"written on day 340", content_type="text/plain")
        clock.advance(timedelta(days=30))  # now "old" is 370 days old, "new" 30

        expected = [
            (buckets[BucketKind.RESULTS], "new", "set_storage_class", "NEARLINE"),  # 30 days: colder
            (buckets[BucketKind.RESULTS], "old", "delete", None),  # 370 > 365: deleted
            (buckets[BucketKind.COMMAND_LOGS], "old", "delete", None),  # 370 > 90; "new" (30) kept
        ]
        planned = await storage.plan()
        assert sorted((c.bucket, c.name, c.action.value, c.storage_class) for c in planned) == sorted(
            expected
        )
        # The dry run changed nothing.
        for kind in BucketKind:
            for name in ("old", "new"):
                assert (await storage.store.stat(buckets[kind], name)).storage_class == "STANDARD"

        swept = await storage.sweep()
        assert sorted((c.bucket, c.name, c.action.value, c.storage_class) for c in swept) == sorted(expected)
        for bucket, name in [(buckets[BucketKind.RESULTS], "old"), (buckets[BucketKind.COMMAND_LOGS], "old")]:
            with pytest.raises(BlobNotFound):
                await storage.store.get(bucket, name)
        assert (await storage.store.stat(buckets[BucketKind.RESULTS], "new")).storage_class == "NEARLINE"
        assert (await storage.store.get(buckets[BucketKind.RESULTS], "new")).data == b"written on day 340"
        assert (
            await storage.store.get(buckets[BucketKind.COMMAND_LOGS], "new")
        ).data == b"written on day 340"
        for kind in (BucketKind.ARCHIVE, BucketKind.STATIC):  # kept, however old
            for name in ("old", "new"):
                assert (await storage.store.stat(buckets[kind], name)).storage_class == "STANDARD"
        assert await storage.plan() == []  # nothing left to do


@pytest.mark.parametrize("kind", STORES)
async def test_the_rules_are_set_on_each_bucket(
    request: pytest.FixtureRequest, tmp_path: Path, kind: str
) -> None:
    async with opened(kind, request, tmp_path, ManualClock()) as storage:
        await storage.prepare()
        buckets = storage.buckets
        assert await storage.store.lifecycle(buckets[BucketKind.RESULTS]) == [
            LifecycleRule(LifecycleAction.SET_STORAGE_CLASS, 30, storage_class="NEARLINE"),
            LifecycleRule(LifecycleAction.DELETE, 365),
        ]
        assert await storage.store.lifecycle(buckets[BucketKind.COMMAND_LOGS]) == [
            LifecycleRule(LifecycleAction.DELETE, 90)
        ]
        assert await storage.store.lifecycle(buckets[BucketKind.ARCHIVE]) == []
        assert await storage.store.lifecycle(buckets[BucketKind.STATIC]) == []
        if kind == "cloud_storage":
            assert await storage.sweep() == []  # Cloud Storage applies its rules itself
