"""The root runs storage's chores with its one periodic-job mechanism: the hourly command-log export
(yesterday and today) and, locally, the lifecycle sweeper. Run here as the root runs them."""

from __future__ import annotations

import gzip
import json
from datetime import timedelta

import pytest

from virtuoso_api.infra.blobs import BlobNotFound
from virtuoso_api.kit.clock import ManualClock
from virtuoso_api.kit.lifecycle import PeriodicJob
from virtuoso_api.services import Services
from virtuoso_api.storage import BucketKind


def _job(services: Services, name: str) -> PeriodicJob:
    (job,) = [job for needs in services.needs for job in needs.periodic if job.name == name]
    return job


async def test_the_hourly_export_and_the_sweeper(services: Services, clock: ManualClock) -> None:
    export = _job(services, "export command logs")
    sweep = _job(services, "apply the blobs' lifecycle")
    assert (export.every_seconds, sweep.every_seconds) == (3600, 3600)
    day = clock.now().date()
    first = await services.history.record(user_id="u", command="navigate", args=["to", "x"], success=True)
    clock.advance(timedelta(minutes=5))
    second = await services.history.record(user_id="u", command="click", args=["y"], success=False)

    await export.run()
    bucket = services.storage.buckets[BucketKind.COMMAND_LOGS]
    name = f"history/{day.isoformat()}.ndjson.gz"
    blob = await services.storage.store.get(bucket, name)
    lines = [json.loads(line) for line in gzip.decompress(blob.data).splitlines()]
    assert [(line["entry_id"], line["success"]) for line in lines] == [
        (first.entry_id, True),
        (second.entry_id, False),
    ]
    assert dict(blob.info.metadata)["entries"] == "2"

    clock.advance(timedelta(days=89))
    await sweep.run()
    assert (await services.storage.store.get(bucket, name)).data == blob.data  # 89 days: kept
    clock.advance(timedelta(days=2))
    await sweep.run()
    with pytest.raises(BlobNotFound):
        await services.storage.store.get(bucket, name)  # past STORAGE_LOGS_DELETE_AFTER_DAYS (90)


async def test_the_hourly_reports_index_links_every_report(services: Services, client) -> None:
    from urllib.parse import urlsplit

    from tests.reports.test_render import _suite_run
    from virtuoso_api.reports.from_suite import suite_report

    await services.reports.publish(suite_report(_suite_run()))
    index = _job(services, "publish the reports index")
    await index.run()
    page = await services.storage.store.get(services.storage.buckets[BucketKind.STATIC], "reports/index.html")
    text = page.data.decode()
    assert "suite-runs/job_5d2776f59ef2fc3e · error" in text
    link = text.split('href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    parts = urlsplit(link)
    opened = await client.get(f"{parts.path}?{parts.query}")
    assert opened.status_code == 200
    assert "Checkout &lt;b&gt;flow&lt;/b&gt;" in opened.text
