"""The seed's "Async Command Execution" example, as written, on the local queue."""

from __future__ import annotations

from pathlib import Path

import pytest

from virtuoso_api.gcp import close_cloud_tasks_client, get_cloud_tasks_client
from virtuoso_api.sandbox import SEED

BATCH = [
    {"command": "step-navigate", "args": ["to", "https://example.com"]},
    {"command": "step-interact", "args": ["click", "button.submit"]},
    {"command": "step-assert", "args": ["exists", "Success message"]},
]


async def test_the_seeds_example_runs_on_the_local_queue(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("VIRTUOSO_SANDBOX", "true")
    tasks = get_cloud_tasks_client()
    try:
        services = await tasks._open()  # set-up only: the seed's checkpoint, and the facade user's session
        state = services.virtuoso.sandbox_app.state.sandbox
        state.add_checkpoint(state.goal(SEED.goal_id), "the seed's checkpoint", checkpoint_id=123)
        await services.sessions.create("facade", checkpoint_id=SEED.checkpoint_id, activate=True)

        task = await tasks.create_command_task(
            command="step-navigate",
            args=["to", "https://example.com"],
            checkpoint_id="cp_123",
            user_id="user-456",
        )
        batch_task = await tasks.create_batch_task(commands=BATCH, batch_id="batch-001", parallel=True)

        assert (task["name"], task["status"]) == (task["job_id"], "queued")
        done = await tasks.wait_for_job(task["job_id"], timeout=30)
        batch = await tasks.wait_for_job(batch_task["name"], timeout=30)
        again = await tasks.create_batch_task(commands=BATCH, batch_id="batch-001", parallel=True)
        client = services.virtuoso.client
        steps_123 = [s.action for s in await client.list_steps(123)]
        steps_1001 = [s.action for s in await client.list_steps(SEED.checkpoint_id)]
    finally:
        await close_cloud_tasks_client()
    assert (done["status"], done["owner"], done["result"]["position"]) == ("succeeded", "user-456", 1)
    assert batch["status"] == "succeeded"
    assert [item["outcome"]["position"] for item in batch["result"]["results"]] == [1, 2, 3]
    assert again["job_id"] == batch_task["job_id"]
    assert steps_123 == ["NAVIGATE"]
    assert steps_1001 == ["NAVIGATE", "CLICK", "ASSERT_EXISTS"]
