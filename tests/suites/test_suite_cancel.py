"""Cancelling a suite job (``POST /api/v1/jobs/{id}/cancel``, ``virtuoso-api jobs cancel ID``).

A queued suite job is cancelled at once and nothing of it reaches Virtuoso; a running one stops
before its next step (and never starts its journey's run); a finished one is a 409. Virtuoso is a
sandbox: in-process for the queued and finished cases, in its own process on a real socket holding
each answer back (``--latency-ms``) for the running ones, so the job is still adding steps when the
cancel comes. What the job made is read from the sandbox (through its observer header), counted
against the job's progress and its stored result, never timed.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from tests.jobs.conftest import follow
from tests.processes import CLI, served_sandbox
from tests.support import MakeKey, auth
from virtuoso_api.api_keys.models import ApiKeyCreate, Scope
from virtuoso_api.app import create_app
from virtuoso_api.config import Settings
from virtuoso_api.kit.clock import ManualClock
from virtuoso_api.sandbox import OBSERVER_HEADER, SEED
from virtuoso_api.services import Services

TOKEN = "suite-cancel-token"
STEPS = 40
#: Rounds of polling before a test gives up waiting for the job to get somewhere (a bound, not a measure).
ROUNDS = 3000


def _suite(steps: int = STEPS) -> str:
    return "name: Cancelled midway\nstarting_url: https://cancel.example.com\nsteps:\n" + "".join(
        f"  - comment: step {n}\n" for n in range(steps)
    )


# -- a queued suite job, and a finished one (the in-process sandbox) -----------------------------


async def _queues_idle(client: httpx.AsyncClient, admin: dict[str, str]) -> bool:
    stats = (await client.get("/api/v1/jobs/stats", headers=admin)).json()
    return all(queue["waiting"] == queue["running"] == 0 for queue in stats["queues"])


async def test_a_queued_suite_job_is_cancelled_at_once_and_nothing_reaches_virtuoso(
    client: httpx.AsyncClient, services: Services, clock: ManualClock, make_key: MakeKey
) -> None:
    writer = auth(await make_key(name="ci"))
    admin = auth(await make_key(Scope.ADMIN, name="operator"))
    traffic = services.virtuoso.sandbox_app.state.sandbox.traffic
    before = dict(traffic.counts)
    body = {"suite": _suite(5), "project": "Cancelled suites", "execute": True, "delay_seconds": 60}
    answer = await client.post("/api/v1/suites/runs", headers=writer, json=body)
    assert answer.status_code == 202, answer.text
    job_id = answer.json()["job_id"]

    cancelled = await client.post(f"/api/v1/jobs/{job_id}/cancel", headers=writer)
    assert cancelled.status_code == 200, cancelled.text
    assert (cancelled.json()["status"], cancelled.json()["kind"]) == ("cancelled", "suite")
    assert cancelled.json()["finished_at"] is not None

    # Its task comes due all the same (a queue cannot be told): it finds the job cancelled.
    clock.advance(timedelta(seconds=120))
    for _ in range(ROUNDS):
        if await _queues_idle(client, admin):
            break
        await asyncio.sleep(0.01)
    else:
        raise AssertionError("the suite task was never delivered")
    view = (await client.get(answer.headers["Location"], headers=writer)).json()
    assert (view["job"]["status"], view["job"]["attempts"], view["result"]) == ("cancelled", 0, None)
    assert dict(traffic.counts) == before  # not one request: no project, goal, journey, step or run
    junit = await client.get(f"{answer.headers['Location']}/junit", headers=writer)
    assert junit.status_code == 404
    assert junit.json()["error"]["message"] == f"suite run {job_id} has no results yet (job cancelled)"
    again = await client.post(f"/api/v1/jobs/{job_id}/cancel", headers=writer)
    assert again.status_code == 409
    assert again.json()["error"]["message"] == f"job {job_id} has already cancelled"


async def test_cancelling_a_finished_suite_job_is_a_409_and_changes_nothing(
    client: httpx.AsyncClient, services: Services, make_key: MakeKey
) -> None:
    writer = auth(await make_key(name="ci"))
    answer = await client.post("/api/v1/suites/runs", headers=writer, json={"suite": _suite(3)})
    job = await follow(client, writer, f"/api/v1/jobs/{answer.json()['job_id']}")
    assert job["status"] == "succeeded", job

    refused = await client.post(f"/api/v1/jobs/{job['job_id']}/cancel", headers=writer)
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert (error["type"], error["message"]) == ("conflict", f"job {job['job_id']} has already succeeded")
    view = (await client.get(answer.headers["Location"], headers=writer)).json()
    assert (view["job"]["status"], view["job"]["cancel_requested"]) == ("succeeded", False)
    assert view["result"]["status"] == "added"
    checkpoint = view["result"]["placement"]["checkpoints"][0]["checkpoint_id"]
    steps = await services.virtuoso.client.list_steps(checkpoint)
    assert [step.value for step in steps] == ["step 0", "step 1", "step 2"]


# -- a running suite job (a sandbox on a socket, slow to answer) ---------------------------------


@pytest.fixture
def slow_virtuoso(request: pytest.FixtureRequest) -> Iterator[str]:
    """Each answer held back 40 ms (a test may ask for more: ``indirect`` parametrisation). Runs are
    slow too (each step of one takes 2 s): a job cancelled while its run goes on ends first."""
    latency = str(getattr(request, "param", 40))
    with served_sandbox(TOKEN, "--latency-ms", latency, "--step-seconds", "2", observer=True) as base_url:
        yield base_url


@pytest.fixture
def pointed(settings: Settings, slow_virtuoso: str) -> Settings:
    """The service reaching that sandbox by URL and token, as it would the real Virtuoso."""
    return settings.model_copy(
        update={
            "virtuoso_sandbox": False,
            "virtuoso_api_token": SecretStr(TOKEN),
            "virtuoso_base_url": slow_virtuoso,
            "virtuoso_org_id": SEED.organization_id,
            "run_poll_seconds": 0.1,
            "run_poll_max_seconds": 0.5,
            # One 429 ends an attempt (the task is tried again): see the resumed-job test.
            "virtuoso_retry_attempts": 1,
            "tasks_min_backoff_seconds": 0.5,
            "tasks_max_backoff_seconds": 2.0,
        }
    )


class Served:
    """The app under test (its dispatcher running the jobs) and a client for it and for the sandbox."""

    def __init__(self, app: FastAPI, http: httpx.AsyncClient, sandbox: httpx.AsyncClient) -> None:
        self.app = app
        self.http = http
        self.sandbox = sandbox
        self.writer: dict[str, str] = {}
        self.admin: dict[str, str] = {}

    async def virtuoso(self, path: str) -> Any:
        """What the sandbox holds, read past its latency (the observer header)."""
        answer = await self.sandbox.get(path)
        assert answer.status_code == 200, answer.text
        return answer.json()

    async def step_values(self, checkpoint_id: int) -> list[tuple[int, str]]:
        items = (await self.virtuoso(f"/checkpoints/{checkpoint_id}/teststeps"))["items"]
        return [(item["id"], item["value"]) for item in items]

    async def requests(self) -> dict[str, int]:
        root = str(self.sandbox.base_url).removesuffix("/api/")
        answer = await self.sandbox.get(f"{root}/_sandbox/requests")
        counts: dict[str, int] = answer.json()["item"]["counts"]
        return counts

    async def throttle(self, requests: int) -> None:
        """The sandbox answers the next ``requests`` API requests 429."""
        root = str(self.sandbox.base_url).removesuffix("/api/")
        answer = await self.sandbox.post(
            f"{root}/_sandbox/throttle", json={"requests": requests, "retryAfter": 0}
        )
        assert answer.status_code == 200, answer.text

    async def submit(self, **body: Any) -> str:
        answer = await self.http.post("/api/v1/suites/runs", headers=self.writer, json=body)
        assert answer.status_code == 202, answer.text
        job_id: str = answer.json()["job_id"]
        return job_id

    async def job(self, job_id: str) -> dict[str, Any]:
        job: dict[str, Any] = (await self.http.get(f"/api/v1/jobs/{job_id}", headers=self.writer)).json()
        return job

    async def when_steps_done(self, job_id: str, done: int) -> dict[str, Any]:
        """The job once its progress shows ``done`` steps; fails if it finished first."""
        for _ in range(ROUNDS):
            job = await self.job(job_id)
            assert job["status"] in {"queued", "running"}, f"the job ended before the cancel: {job}"
            if job["progress"]["done"] >= done:
                return job
            await asyncio.sleep(0.01)
        raise AssertionError(f"the job never got {done} steps done")

    async def settled(self) -> None:
        """Until no task is waiting or running: nothing of the job can reach Virtuoso any more."""
        for _ in range(ROUNDS):
            stats = (await self.http.get("/api/v1/jobs/stats", headers=self.admin)).json()
            if all(queue["waiting"] == queue["running"] == 0 for queue in stats["queues"]):
                return
            await asyncio.sleep(0.01)
        raise AssertionError("the queue never settled")


@pytest.fixture
async def served(pointed: Settings, slow_virtuoso: str) -> AsyncIterator[Served]:
    app = create_app(pointed)
    observer = {"Authorization": f"Bearer {TOKEN}", OBSERVER_HEADER: "1"}
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t", timeout=30) as http,
        httpx.AsyncClient(base_url=slow_virtuoso + "/", headers=observer, timeout=30) as sandbox,
    ):
        running = Served(app, http, sandbox)
        keys = app.state.services.api_keys
        running.writer = auth((await keys.create(ApiKeyCreate(name="ci", user_id="ci")))[0])
        admin = ApiKeyCreate(name="operator", scopes=[Scope.ADMIN])
        running.admin = auth((await keys.create(admin))[0])
        yield running


async def _check_stopped(
    served: Served,
    job_id: str,
    *,
    asked_at: int,
    at_most: int = STEPS - 1,
    total: int = STEPS,
    refused: int = 0,
) -> tuple[dict[str, Any], int]:
    """The cancelled job's state against the sandbox's; answers the view and how many steps it made
    (at least ``asked_at``, done before the cancel, and at most ``at_most``; ``refused``: step
    requests the sandbox answered 429)."""
    view = (await served.http.get(f"/api/v1/suites/runs/{job_id}", headers=served.writer)).json()
    job, result = view["job"], view["result"]
    assert (job["status"], job["cancel_requested"]) == ("cancelled", True), job
    checkpoint = result["placement"]["checkpoints"][0]["checkpoint_id"]
    at_cancelled = await served.step_values(checkpoint)
    made = len(at_cancelled)
    assert asked_at <= made <= at_most < total
    assert [value for _, value in at_cancelled] == [f"step {n}" for n in range(made)]
    assert job["progress"] == {"done": made, "total": total}
    steps = result["steps"]
    assert len(steps) == total
    assert [(s["step_id"], s["success"]) for s in steps[:made]] == [(id_, True) for id_, _ in at_cancelled]
    assert all(not s["success"] and s["step_id"] is None for s in steps[made:])
    assert {s["error"]["type"] for s in steps[made:]} == {"cancelled"}
    assert {s["error"]["message"] for s in steps[made:]} == {"not added: the job was cancelled"}
    assert result["status"] == "incomplete"  # never read as passed or added
    assert result["error"]["type"] == "cancelled"
    assert f"{made} of {total} steps added" in result["error"]["message"]
    assert f"line {steps[made]['line']}" in result["error"]["message"]
    # The journey was never run: no execution was asked of Virtuoso.
    assert (result["execution_id"], result["run"], result["run_requested"]) == (None, None, False)
    assert not [path for path in await served.requests() if path.endswith("/execute")]

    # No step after the job said cancelled: once its task is settled, the sandbox holds the same,
    # and it was asked for exactly those steps.
    await served.settled()
    assert await served.step_values(checkpoint) == at_cancelled
    posted = sum(n for path, n in (await served.requests()).items() if path == "POST /teststeps")
    assert posted == made + refused
    return view, made


async def test_a_running_suite_job_stops_before_its_next_step_and_never_runs_its_journey(
    served: Served,
) -> None:
    # continue_on_error: a cancel is not a failed step to go on after.
    job_id = await served.submit(
        suite=_suite(),
        filename="cancel.yaml",
        project="Cancelled suites",
        execute=True,
        continue_on_error=True,
    )
    await served.when_steps_done(job_id, 3)
    answer = await served.http.post(f"/api/v1/jobs/{job_id}/cancel", headers=served.writer)
    assert answer.status_code == 200, answer.text
    # A running job is asked to stop; it says cancelled once it has.
    assert (answer.json()["status"], answer.json()["cancel_requested"]) == ("running", True)
    job = await follow(served.http, served.writer, f"/api/v1/jobs/{job_id}")
    assert job["status"] == "cancelled"
    assert job["result"]["status"] == "incomplete"
    # Stopped before its next step: the steps done when the cancel was written (the answer's
    # progress), perhaps the one in flight then, and nothing more.
    done = answer.json()["progress"]["done"]
    _, made = await _check_stopped(served, job_id, asked_at=done, at_most=done + 1)

    junit = await served.http.get(f"/api/v1/suites/runs/{job_id}/junit", headers=served.writer)
    assert junit.status_code == 200
    root = ET.fromstring(junit.text)
    cases = {(case.get("classname"), case.get("name")): case for case in root.iter("testcase")}
    assert set(cases) == {("cancel.yaml", "Cancelled midway"), ("Virtuoso", "Cancelled midway")}
    file_error = cases[("cancel.yaml", "Cancelled midway")].find("error")
    assert file_error is not None
    message = file_error.get("message") or ""
    assert message.startswith("the job was cancelled before line ")
    assert f"{made} of {STEPS} steps added" in message
    journey_skipped = cases[("Virtuoso", "Cancelled midway")].find("skipped")
    assert journey_skipped is not None
    assert journey_skipped.get("message") == "not run: the job was cancelled"
    assert (root.get("errors"), root.get("skipped"), root.get("failures")) == ("1", "1", "0")


# The cancel must come while the last step is in flight: a quarter second per answer makes that window
# wide enough for a loaded machine (40 ms was not always; a whole second made the test 15 s long).
@pytest.mark.parametrize("slow_virtuoso", [250], indirect=True)
async def test_a_cancel_after_the_last_step_still_keeps_the_journey_from_running(
    served: Served,
) -> None:
    """The run is the job's last step: a cancel that comes while the last step is added stops it."""
    steps = 3
    job_id = await served.submit(suite=_suite(steps), project="Cancelled suites", execute=True)
    await served.when_steps_done(job_id, steps - 1)
    answer = await served.http.post(f"/api/v1/jobs/{job_id}/cancel", headers=served.writer)
    assert answer.status_code == 200, answer.text
    # Written while the last step was in flight: the check before the run comes after it.
    assert answer.json()["progress"]["done"] == steps - 1, "the cancel came too late to test anything"
    job = await follow(served.http, served.writer, f"/api/v1/jobs/{job_id}")
    view = (await served.http.get(f"/api/v1/suites/runs/{job_id}", headers=served.writer)).json()
    assert job["status"] == "cancelled", view
    result = view["result"]
    checkpoint = result["placement"]["checkpoints"][0]["checkpoint_id"]
    made = await served.step_values(checkpoint)
    assert len(made) in (steps - 1, steps)
    assert (result["status"], result["error"]["type"]) == ("incomplete", "cancelled")
    assert result["execution_id"] is None
    assert "the journey was not run" in result["error"]["message"]
    await served.settled()
    assert not [path for path in await served.requests() if path.endswith("/execute")]


def _cli(data_dir: str, *args: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "DATA_DIR": data_dir, "LOG_LEVEL": "WARNING"}
    return subprocess.run(
        [*CLI, *args], env=environment, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.timeout(300)
async def test_virtuoso_api_jobs_cancel_stops_a_running_suite_job(served: Served, pointed: Settings) -> None:
    # More steps than over HTTP: the CLI is a new Python process, slow to start on a loaded machine.
    steps = 200
    job_id = await served.submit(
        suite=_suite(steps), filename="cancel.yaml", project="Cancelled suites", execute=True
    )
    asked_at = (await served.when_steps_done(job_id, 2))["progress"]["done"]
    data_dir = str(pointed.data_dir)
    # The operator's CLI, a process of its own on the store the service uses.
    said = await asyncio.to_thread(_cli, data_dir, "jobs", "cancel", job_id)
    assert said.returncode == 0, said.stderr
    assert said.stdout == f"Job {job_id} asked to stop before its next step.\n"
    job = await follow(served.http, served.writer, f"/api/v1/jobs/{job_id}")
    assert job["status"] == "cancelled"
    await _check_stopped(served, job_id, asked_at=asked_at, at_most=steps - 1, total=steps)
    again = await asyncio.to_thread(_cli, data_dir, "jobs", "cancel", job_id)
    assert (again.returncode, again.stdout) == (1, "")
    assert again.stderr.endswith(f"error: job {job_id} has already cancelled\n")


async def test_a_job_cancelled_between_attempts_keeps_the_steps_its_first_attempt_made(
    served: Served,
) -> None:
    """The cancel comes while the job waits for its next attempt (Virtuoso answered 429): that
    attempt sends nothing, and its result still lists the steps the first one made, as made."""
    job_id = await served.submit(
        suite=_suite(), filename="cancel.yaml", project="Cancelled suites", execute=True
    )
    await served.when_steps_done(job_id, 3)
    await served.throttle(1)  # the next step is refused: the attempt ends, "not now"
    for _ in range(ROUNDS):
        job = await served.job(job_id)
        if job["error"] is not None:
            break
        await asyncio.sleep(0.01)
    assert (job["status"], job["attempts"], job["error"]["type"]) == ("running", 1, "service_unavailable"), (
        job
    )
    made_by_the_first = job["progress"]["done"]

    answer = await served.http.post(f"/api/v1/jobs/{job_id}/cancel", headers=served.writer)
    assert (answer.status_code, answer.json()["status"]) == (200, "running")
    job = await follow(served.http, served.writer, f"/api/v1/jobs/{job_id}")
    assert (job["status"], job["attempts"]) == ("cancelled", 2), job
    await _check_stopped(served, job_id, asked_at=made_by_the_first, at_most=made_by_the_first, refused=1)


async def test_a_job_cancelled_while_its_run_executes_stops_following_it(served: Served) -> None:
    """Virtuoso's run cannot be stopped from here: the job stops following it, ends cancelled, and
    its result names the run that goes on; no other run is started, no step added."""
    job_id = await served.submit(
        suite=_suite(3), filename="cancel.yaml", project="Cancelled suites", execute=True
    )
    location = f"/api/v1/suites/runs/{job_id}"
    for _ in range(ROUNDS):
        view = (await served.http.get(location, headers=served.writer)).json()
        assert view["job"]["status"] in {"queued", "running"}, view["job"]
        if view["result"] is not None and view["result"]["execution_id"] is not None:
            break
        await asyncio.sleep(0.01)
    else:
        raise AssertionError("the run was never started")
    execution_id = view["result"]["execution_id"]
    answer = await served.http.post(f"/api/v1/jobs/{job_id}/cancel", headers=served.writer)
    assert (answer.status_code, answer.json()["status"]) == (200, "running")
    job = await follow(served.http, served.writer, f"/api/v1/jobs/{job_id}")
    assert job["status"] == "cancelled", job
    run = (await served.virtuoso(f"/executions/{execution_id}/status"))["item"]
    assert run["status"] in {"QUEUED", "RUNNING"}  # the job did not wait for it

    result = (await served.http.get(location, headers=served.writer)).json()["result"]
    assert (result["status"], result["execution_id"]) == ("incomplete", execution_id)
    # The run as last seen, not ended: never read as passed.
    assert (result["run"]["execution_id"], result["run"]["verdict"]) == (execution_id, "running")
    assert result["error"] == {
        "type": "cancelled",
        "message": f"the job was cancelled while run {execution_id} was executing: 3 of 3 steps added; "
        "it goes on in Virtuoso, not followed",
    }
    assert job["progress"] == {"done": 3, "total": 3}
    checkpoint = result["placement"]["checkpoints"][0]["checkpoint_id"]
    await served.settled()
    assert [value for _, value in await served.step_values(checkpoint)] == ["step 0", "step 1", "step 2"]
    started = [path for path in await served.requests() if path.endswith("/execute")]
    assert [(await served.requests())[path] for path in started] == [1]
