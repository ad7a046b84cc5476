"""A suite run as a job, the server killed (kill -9) while its steps go in, then started again on the
same data folder: the job resumes and finishes, and every step of the file is in its checkpoint
exactly once, in the file's order; the project, goal, journey and checkpoint are not made twice.

Real processes on real sockets: ``serve`` and a sandbox that holds each answer back (``--latency-ms``),
so the kill often lands while a step request is in flight (Virtuoso made the step, the service has
not heard). The test watches the checkpoint through the sandbox's observer header.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.processes import CLI, free_port, running, served_sandbox
from virtuoso_api.sandbox import OBSERVER_HEADER, SEED

TOKEN = "suite-crash-token"
STEPS = 60
SUITE = "name: Survives a crash\nstarting_url: https://crash.example.com\nsteps:\n" + "".join(
    f"  - comment: step {n}\n" for n in range(STEPS)
)


@pytest.fixture
def sandbox() -> Iterator[str]:
    with served_sandbox(TOKEN, "--latency-ms", "40", "--step-seconds", "0.01", observer=True) as base_url:
        yield base_url


def _environment(data_dir: Path, sandbox: str) -> dict[str, str]:
    return {
        "DATA_DIR": str(data_dir),
        "VIRTUOSO_BASE_URL": sandbox,
        "VIRTUOSO_API_TOKEN": TOKEN,
        "VIRTUOSO_ORG_ID": str(SEED.organization_id),
        "TASKS_LEASE_SECONDS": "2",
        "TASKS_MIN_BACKOFF_SECONDS": "0.5",
        "TASKS_MAX_BACKOFF_SECONDS": "2",
        "TASKS_MAX_ATTEMPTS": "20",
        "RUN_POLL_SECONDS": "0.1",
        "RUN_POLL_MAX_SECONDS": "0.5",
        "LOG_LEVEL": "WARNING",
    }


def _key(env: dict[str, str]) -> str:
    made = subprocess.run(
        [*CLI, "keys", "create", "--name", "crash", "--json"],
        env={**os.environ, **env},
        capture_output=True,
        check=True,
    )
    key: str = json.loads(made.stdout)["key"]
    return key


async def _virtuoso(sandbox: str, path: str) -> Any:
    headers = {"Authorization": f"Bearer {TOKEN}", OBSERVER_HEADER: "1"}
    async with httpx.AsyncClient(timeout=10) as http:
        return (await http.get(f"{sandbox}{path}", headers=headers)).json()


async def _suite_run(base: str, key: str, location: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base, timeout=10, headers={"X-API-Key": key}) as http:
        view: dict[str, Any] = (await http.get(location)).json()
        return view


@pytest.mark.timeout(300)
async def test_a_suite_job_survives_a_kill_9_without_duplicating_steps(sandbox: str, tmp_path: Path) -> None:
    env = _environment(tmp_path / "data", sandbox)
    key = _key(env)
    body = {"suite": SUITE, "filename": "crash.yaml", "project": "Crash suites", "execute": True}

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with running("serve", "--port", str(port), ready=f"{base}/health/live", env=env) as first:
        async with httpx.AsyncClient(base_url=base, timeout=10, headers={"X-API-Key": key}) as http:
            answer = await http.post("/api/v1/suites/runs", json=body, headers={"Idempotency-Key": "crash-1"})
        assert answer.status_code == 202, answer.text
        location = answer.headers["Location"]
        checkpoint: int | None = None
        for _ in range(3000):  # until some steps are in, far from all
            if checkpoint is None:
                result = (await _suite_run(base, key, location))["result"]
                if result and result["placement"]:
                    checkpoint = result["placement"]["checkpoints"][0]["checkpoint_id"]
            elif len((await _virtuoso(sandbox, f"/checkpoints/{checkpoint}/teststeps"))["items"]) >= 15:
                break
            await asyncio.sleep(0.01)
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
    assert checkpoint is not None
    made_before = len((await _virtuoso(sandbox, f"/checkpoints/{checkpoint}/teststeps"))["items"])
    assert made_before < STEPS, "the kill came too late to test anything"

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with running("serve", "--port", str(port), ready=f"{base}/health/live", env=env):
        for _ in range(1200):
            view = await _suite_run(base, key, location)
            if view["job"]["status"] in {"succeeded", "failed", "cancelled"}:
                break
            await asyncio.sleep(0.1)
    assert view["job"]["status"] == "succeeded", view["job"]
    assert view["job"]["attempts"] >= 2

    stored = (await _virtuoso(sandbox, f"/checkpoints/{checkpoint}/teststeps"))["items"]
    assert [step["value"] for step in stored] == [f"step {n}" for n in range(STEPS)]
    result = view["result"]
    assert [s["step_id"] for s in result["steps"]] == [step["id"] for step in stored]
    assert [s["position"] for s in result["steps"]] == list(range(1, STEPS + 1))
    assert (result["status"], result["run"]["outcome"]) == ("passed", "PASS")
    # Nothing of the infrastructure was made twice.
    projects = [
        p
        for p in (await _virtuoso(sandbox, "/projects?limit=1000"))["map"].values()
        if p["name"] == "Crash suites"
    ]
    assert len(projects) == 1
    goals = (await _virtuoso(sandbox, f"/projects/{projects[0]['id']}/goals"))["map"]
    assert len(goals) == 1
    journey = (await _virtuoso(sandbox, f"/testsuites/{result['placement']['journey_id']}"))["item"]
    assert [case["id"] for case in journey["cases"]][1:] == [checkpoint]
