"""The crash window, for real: ``serve`` is killed with SIGKILL after Virtuoso made a step and before
its answer arrived, then started again on the same data folder.

The sandbox runs in its own process and holds every answer back (``--latency-ms``), so the step exists
in the checkpoint while the service still waits for Virtuoso's reply; the test watches the checkpoint
through the sandbox's observer header and kills the service at that moment. After a restart, every step
made must be in history exactly once, with the id Virtuoso gave it.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.processes import CLI, free_port, running, served_sandbox
from virtuoso_api.sandbox import OBSERVER_HEADER, SEED

TOKEN = "crash-token"
ROUNDS = 3
_WAIT_SECONDS = 30.0  # a bound on waiting for the other processes, never a measurement


@pytest.fixture
def slow_virtuoso() -> Iterator[str]:
    with served_sandbox(TOKEN, "--latency-ms", "1500", observer=True) as base_url:
        yield base_url


def _steps(base_url: str) -> list[dict[str, Any]]:
    observer = {"Authorization": f"Bearer {TOKEN}", OBSERVER_HEADER: "1"}
    answer = httpx.get(f"{base_url}/checkpoints/{SEED.checkpoint_id}/teststeps", headers=observer)
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def _wait_for(condition: Any, what: str) -> None:
    deadline = time.monotonic() + _WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.05)


def test_every_step_made_before_a_kill_is_in_history_once(tmp_path: Path, slow_virtuoso: str) -> None:
    env = {
        "DATA_DIR": str(tmp_path / "data"),
        "VIRTUOSO_BASE_URL": slow_virtuoso,
        "VIRTUOSO_API_TOKEN": TOKEN,
        "VIRTUOSO_ORG_ID": str(SEED.organization_id),
    }
    made = subprocess.run(
        [*CLI, "keys", "create", "--name", "crash", "--json"],
        env={**os.environ, **env},
        capture_output=True,
        check=True,
    )
    key = {"X-API-Key": json.loads(made.stdout)["key"]}
    port = free_port()
    base = f"http://127.0.0.1:{port}"

    for round_ in range(ROUNDS):
        with running("serve", "--port", str(port), ready=f"{base}/health/live", env=env) as server:
            body = {
                "command": "step-misc",
                "args": ["comment", f"round {round_}"],
                "checkpoint_id": SEED.checkpoint_id,
            }
            sender = threading.Thread(target=_send_and_ignore, args=(f"{base}/api/v1/commands", key, body))
            sender.start()
            _wait_for(lambda n=round_: len(_steps(slow_virtuoso)) == n + 1, f"step {round_ + 1} in Virtuoso")
            server.kill()  # SIGKILL: Virtuoso made the step, the service has not heard back
            server.wait()
            sender.join()

    steps = _steps(slow_virtuoso)
    assert [step["value"] for step in steps] == [f"round {n}" for n in range(ROUNDS)]

    with running("serve", "--port", str(port), ready=f"{base}/health/live", env=env):
        history: list[dict[str, Any]] = []

        def settled() -> bool:
            nonlocal history
            page = httpx.get(f"{base}/api/v1/commands/history", headers=key, params={"limit": 50})
            history = page.json()["entries"]
            return len(history) >= ROUNDS

        _wait_for(settled, "the restarted service to settle the interrupted requests")

    assert len(history) == ROUNDS
    assert all(entry["success"] for entry in history)
    assert sorted(entry["result"]["step_id"] for entry in history) == sorted(step["id"] for step in steps)
    assert all(entry["result"]["reconciled"] is True for entry in history)
    assert sorted(entry["args"][1] for entry in history) == [f"round {n}" for n in range(ROUNDS)]


def _send_and_ignore(url: str, headers: dict[str, str], body: dict[str, Any]) -> None:
    """The caller's side: its request dies with the server (no answer is expected)."""
    with contextlib.suppress(httpx.TransportError):
        httpx.post(url, headers=headers, json=body, timeout=_WAIT_SECONDS)
