"""A suite run's report: when the ``suite`` job ends, its result JSON, JUnit XML and HTML report are
stored (rows with their lines in the file), and ``GET /api/v1/suites/runs/{id}`` links to them
(signed); the link opens from the service's ``/files``."""

from __future__ import annotations

import json
import textwrap
from urllib.parse import urlsplit

import httpx

from tests.jobs.conftest import follow
from tests.support import MakeKey, auth
from virtuoso_api.services import Services
from virtuoso_api.storage import BucketKind

SUITE = textwrap.dedent(
    """\
    name: Reported checkout
    starting_url: https://shop.example.com
    steps:
      - click: Add to bag
      - assert: Total
    """
)


async def test_a_finished_suite_run_has_its_report_linked(
    client: httpx.AsyncClient, make_key: MakeKey, services: Services
) -> None:
    writer = auth(await make_key(name="ci"))
    answer = await client.post(
        "/api/v1/suites/runs",
        headers=writer,
        json={"suite": SUITE, "filename": "ci/checkout.yaml", "project": "Reported", "execute": True},
    )
    assert answer.status_code == 202, answer.text
    run_id = answer.json()["job_id"]
    job = await follow(client, writer, f"/api/v1/jobs/{run_id}")
    assert job["status"] == "succeeded", job

    view = (await client.get(f"/api/v1/suites/runs/{run_id}", headers=writer)).json()
    links = view["reports"]
    assert set(links) == {"html", "json", "junit"}
    assert f"/suite-runs/{run_id}/report.html?" in links["html"]

    await services.outbox.flush()
    listed = await services.storage.store.list(services.storage.buckets[BucketKind.RESULTS], "suite-runs/")
    assert sorted(info.name.rsplit("/", 1)[1] for info in listed.blobs) == [
        "junit.xml",
        "report.html",
        "result.json",
    ]

    parts = urlsplit(links["json"])
    result = json.loads((await client.get(f"{parts.path}?{parts.query}")).content)
    assert (result["kind"], result["id"], result["outcome"], result["source"]) == (
        "suite-run",
        run_id,
        "passed",
        "checkout.yaml",
    )
    assert [(step["line"], step["status"]) for step in result["steps"]] == [(4, "passed"), (5, "passed")]
    parts = urlsplit(links["html"])
    page = (await client.get(f"{parts.path}?{parts.query}")).text
    assert "Reported checkout" in page
    assert '<td data-label="Line">5</td>' in page
