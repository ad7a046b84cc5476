"""200 async commands, the server killed (kill -9) mid-run and started again: every command makes
exactly one step, and every job succeeds. Real processes on real sockets: ``serve`` and a sandbox."""

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

TOKEN = "crash-token"
COMMANDS = 200


@pytest.fixture
def sandbox() -> Iterator[str]:
    with served_sandbox(TOKEN) as base_url:
        yield base_url


def _environment(data_dir: Path, sandbox: str) -> dict[str, str]:
    return {
        "DATA_DIR": str(data_dir),
        "VIRTUOSO_BASE_URL": sandbox,
        "VIRTUOSO_API_TOKEN": TOKEN,
        "TASKS_CONCURRENCY": "8",
        "TASKS_LEASE_SECONDS": "2",
        "TASKS_MIN_BACKOFF_SECONDS": "0.5",
        "TASKS_MAX_BACKOFF_SECONDS": "2",
        "TASKS_MAX_ATTEMPTS": "20",
        "LOG_LEVEL": "WARNING",
    }


def _admin_key(env: dict[str, str]) -> str:
    made = subprocess.run(
        [*CLI, "keys", "create", "--name", "crash", "--scopes", "admin", "--json"],
        env={**os.environ, **env},
        capture_output=True,
        check=True,
    )
    key: str = json.loads(made.stdout)["key"]
    return key


async def _submit(base: str, key: str, numbers: list[int], accepted: dict[int, str]) -> list[int]:
    """Submit commands ``numbers`` (8 at a time, each under its own Idempotency-Key); the numbers
    whose answer did not arrive (the server died) are returned for a retry."""
    failed: list[int] = []
    slots = asyncio.Semaphore(8)

    async def one(http: httpx.AsyncClient, n: int) -> None:
        body = {"command": "step-misc", "args": ["comment", f"c{n}"], "checkpoint_id": 1001}
        async with slots:
            try:
                response = await http.post(
                    "/api/v1/commands/async",
                    json=body,
                    headers={"X-API-Key": key, "Idempotency-Key": f"cmd-{n}"},
                )
            except httpx.TransportError:
                failed.append(n)
                return
        if response.status_code != 202:
            failed.append(n)
            return
        accepted[n] = response.json()["job_id"]

    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        await asyncio.gather(*(one(http, n) for n in numbers))
    return failed


async def _steps(sandbox: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.get(
            f"{sandbox}/checkpoints/1001/teststeps", headers={"Authorization": f"Bearer {TOKEN}"}
        )
    items: list[dict[str, Any]] = response.json()["items"]
    return items


@pytest.mark.timeout(300)
async def test_200_async_commands_survive_a_kill_9_and_make_200_steps(sandbox: str, tmp_path: Path) -> None:
    env = _environment(tmp_path / "data", sandbox)
    key = _admin_key(env)
    accepted: dict[int, str] = {}

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with running("serve", "--port", str(port), ready=f"{base}/health/live", env=env) as first:
        submitting = asyncio.create_task(_submit(base, key, list(range(COMMANDS)), accepted))
        for _ in range(3000):  # until some steps exist, but far from all
            if len(await _steps(sandbox)) >= 30 or submitting.done():
                break
            await asyncio.sleep(0.01)
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        retry = await submitting
    made_before_restart = len(await _steps(sandbox))
    assert made_before_restart < COMMANDS, "the kill came too late to test anything"

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with running("serve", "--port", str(port), ready=f"{base}/health/live", env=env):
        assert await _submit(base, key, retry, accepted) == []
        assert len(accepted) == COMMANDS
        jobs = await _wait_for_all(base, key, set(accepted.values()))

    assert {job["status"] for job in jobs} == {"succeeded"}
    steps = await _steps(sandbox)
    assert sorted(step["value"] for step in steps) == sorted(f"c{n}" for n in range(COMMANDS))
    assert [step["stepIndex"] for step in steps] == list(range(1, COMMANDS + 1))
    # Each job names the step that was made for it.
    by_value = {step["value"]: step["id"] for step in steps}
    named = {job["result"]["step_id"] for job in jobs}
    assert named == set(by_value.values())


async def _wait_for_all(base: str, key: str, job_ids: set[str]) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=base, timeout=30, headers={"X-API-Key": key}) as http:
        for _ in range(2400):
            page = (await http.get("/api/v1/jobs", params={"limit": 200})).json()
            jobs = [job for job in page["jobs"] if job["job_id"] in job_ids]
            if len(jobs) == len(job_ids) and all(
                job["status"] in {"succeeded", "failed", "cancelled"} for job in jobs
            ):
                return jobs
            await asyncio.sleep(0.1)
    raise AssertionError(f"jobs still running: {[j['status'] for j in jobs if j['status'] != 'succeeded']}")
