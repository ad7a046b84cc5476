"""Reports from the plain model: a suite run (its steps with their lines in the file) rendered as
HTML, JUnit and JSON, text from files and Virtuoso escaped, and published under ``suite-runs/``.

The suite run is given in the shape of the suites domain's ``SuiteRunResult`` (built on another
branch, not importable here): :func:`suite_report` reads it by its fields."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from tests.infra.blobs.conftest import signing_key_file
from virtuoso_api.config import Settings
from virtuoso_api.reports import ReportKind
from virtuoso_api.reports.from_suite import suite_report
from virtuoso_api.reports.render import html_report, junit_xml, result_json
from virtuoso_api.services import Services
from virtuoso_api.storage import BucketKind

STARTED = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


class Step(BaseModel):
    line: int
    command: str
    args: list[str]
    section: str
    success: bool
    error: dict[str, Any] | None = None


class Links(BaseModel):
    project: str | None = None
    run: str | None = None


class SuiteRun(BaseModel):
    run_id: str
    source: str
    name: str
    status: str
    steps: list[Step]
    total_steps: int
    run: None = None
    links: Links
    started_at: datetime
    finished_at: datetime | None


def _suite_run() -> SuiteRun:
    return SuiteRun(
        run_id="job_5d2776f59ef2fc3e",
        source="checkout.yaml",
        name="Checkout <b>flow</b>",
        status="incomplete",
        steps=[
            Step(
                line=7,
                command="step-navigate",
                args=["to", "https://shop.example"],
                section="setup",
                success=True,
            ),
            Step(
                line=12,
                command="step-interact",
                args=["click", 'the "Buy" button'],
                section="steps",
                success=False,
                error={"type": "upstream_rejected", "message": "<script>alert(1)</script> not found"},
            ),
        ],
        total_steps=3,
        links=Links(project="https://app.virtuoso.qa/#/project/101"),
        started_at=STARTED,
        finished_at=STARTED + timedelta(seconds=75),
    )


def test_a_suite_run_renders_with_lines_commands_and_escaped_errors() -> None:
    model = suite_report(_suite_run())
    assert (model.kind, model.outcome.value, model.duration_ms) == (ReportKind.SUITE_RUN, "error", 75_000)
    assert (model.counts.total, model.counts.passed, model.counts.errors) == (2, 1, 1)

    page = html_report(model).decode()
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; not found" in page
    assert "Checkout &lt;b&gt;flow&lt;/b&gt;" in page
    assert '<td data-label="Line">12</td>' in page
    assert "step-interact click the &#34;Buy&#34; button" in page
    assert "checkout.yaml" in page
    assert "https://app.virtuoso.qa/#/project/101" in page
    assert "1 min 15 s" in page

    suite = ET.fromstring(junit_xml(model)).find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("errors"), suite.get("failures")) == ("2", "1", "0")
    names = [case.get("name") for case in suite.iter("testcase")]
    assert names == ["step-navigate (line 7)", "step-interact (line 12)"]

    stored = json.loads(result_json(model))
    assert [(step["line"], step["status"]) for step in stored["steps"]] == [(7, "passed"), (12, "error")]


@pytest.fixture(params=["local", pytest.param("cloud_storage", marks=pytest.mark.cloud_storage)])
def settings(settings: Settings, request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    if request.param == "local":
        return settings
    pytest.importorskip("google.cloud.storage", reason="the gcp extra is not installed")
    key_file, _ = signing_key_file(tmp_path / "keys")
    return settings.model_copy(
        update={
            "use_cloud_storage": True,
            "gcp_project_id": "demo-test",
            "storage_emulator_host": request.getfixturevalue("storage_emulator").host,
            "storage_bucket_prefix": request.getfixturevalue("storage_prefix"),
            "storage_signing_credentials_file": key_file,
        }
    )


async def test_a_suite_run_is_published_under_suite_runs(services: Services) -> None:
    await services.storage.prepare()  # the buckets, as a server's start makes them
    links = await services.reports.publish(suite_report(_suite_run()))
    assert set(links) == {"html", "json", "junit"}
    assert "/suite-runs/job_5d2776f59ef2fc3e/report.html?" in links["html"]
    bucket = services.storage.buckets[BucketKind.RESULTS]
    listed = await services.storage.store.list(bucket, "suite-runs/")
    assert [info.name for info in listed.blobs] == [
        "suite-runs/job_5d2776f59ef2fc3e/junit.xml",
        "suite-runs/job_5d2776f59ef2fc3e/report.html",
        "suite-runs/job_5d2776f59ef2fc3e/result.json",
    ]
    html = await services.storage.store.get(bucket, "suite-runs/job_5d2776f59ef2fc3e/report.html")
    assert html.info.content_type == "text/html; charset=utf-8"
    assert dict(html.info.metadata) == {"kind": "suite-run", "id": "job_5d2776f59ef2fc3e", "outcome": "error"}
