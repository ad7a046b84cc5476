"""A job whose handler has a bug: the error log gets it with the job's context (the request that
submitted it long answered), and the job still ends as the queue's retries say."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from tests.support import MakeKey, auth
from virtuoso_api.config import Settings
from virtuoso_api.jobs.handlers import JobResult
from virtuoso_api.jobs.models import JobKind
from virtuoso_api.jobs.runner import JobRun
from virtuoso_api.sandbox import SEED
from virtuoso_api.services import Services


class BrokenHandler:
    """A handler of the test's own, with a bug (a handler is a plug-in of the jobs domain)."""

    async def run(self, run: JobRun) -> JobResult:  # noqa: ARG002 (the protocol's signature)
        raise KeyError("checkpoint_title")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"tasks_max_attempts": 1})


async def test_a_bug_in_a_job_reaches_the_error_log_with_the_jobs_context(
    client: httpx.AsyncClient, services: Services, make_key: MakeKey
) -> None:
    services.jobs.handlers._handlers[JobKind.COMMAND] = BrokenHandler()  # the registry refuses a second
    writer = auth(await make_key(name="author"))
    queued = await client.post(
        "/api/v1/commands/async",
        json={
            "command": "step-navigate",
            "args": ["to", "https://example.com"],
            "checkpoint_id": SEED.checkpoint_id,
        },
        headers=writer,
    )
    assert queued.status_code == 202
    job_id = queued.json()["job_id"]
    for _ in range(300):
        job = (await client.get(f"/api/v1/jobs/{job_id}", headers=writer)).json()
        if job["status"] == "failed":
            break
        await asyncio.sleep(0.05)
    assert job["status"] == "failed"
    assert services.telemetry.errors is not None
    assert services.telemetry.errors.flush()
    (line,) = (services.settings.data_dir / "errors.jsonl").read_text().splitlines()
    report = json.loads(line)
    assert report["type"] == "KeyError"
    assert report["context"] == {"job_id": job_id, "job_kind": "command", "attempt": 1}
    assert "BrokenHandler" in report["stack"] or "raise KeyError" in report["stack"]
