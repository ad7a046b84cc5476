"""The local queue's own promises: leases, redelivery after a dead process, backoff, the last error,
priority order. What both adapters promise is in ``test_contract.py``."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from virtuoso_api.infra.tasks import NewTask, SqliteTaskQueue, TaskRetry
from virtuoso_api.kit.clock import ManualClock

RETRY = TaskRetry(max_attempts=3, min_backoff=10, max_backoff=300, max_doublings=3)


def queue_at(path: Path, clock: ManualClock) -> SqliteTaskQueue:
    return SqliteTaskQueue(path / "tasks.sqlite3", clock=clock, retry=RETRY)


def test_backoff_follows_cloud_tasks_doubling_then_linear_then_capped() -> None:
    retry = TaskRetry(max_attempts=10, min_backoff=10, max_backoff=300, max_doublings=3)
    assert [retry.backoff(n) for n in range(1, 9)] == [10, 20, 40, 80, 160, 240, 300, 300]
    assert [TaskRetry(min_backoff=1, max_backoff=60, max_doublings=0).backoff(n) for n in (1, 2, 3)] == [
        1,
        2,
        3,
    ]
    with pytest.raises(ValueError, match="min_backoff"):
        TaskRetry(min_backoff=5, max_backoff=1)


async def test_a_task_leased_by_a_process_that_died_is_delivered_again_after_its_lease(
    tmp_path: Path, clock: ManualClock
) -> None:
    dead, alive = queue_at(tmp_path, clock), queue_at(tmp_path, clock)
    await dead.enqueue(NewTask(name="t1", kind="command", payload={"n": 1}))
    first = await dead.claim("dead-process", lease_seconds=30)
    assert first is not None
    assert first.attempt == 1
    assert await alive.claim("alive", lease_seconds=30) is None  # leased: nobody else gets it
    clock.advance(timedelta(seconds=31))
    again = await alive.claim("alive", lease_seconds=30)
    assert again is not None
    assert (again.name, again.attempt, again.payload) == ("t1", 2, {"n": 1})
    assert await dead.complete("t1", "dead-process") is False  # its lease is gone
    assert await alive.complete("t1", "alive") is True
    await dead.close()
    await alive.close()


async def test_processes_sharing_the_file_never_lease_one_task_twice(
    tmp_path: Path, clock: ManualClock
) -> None:
    queues = [queue_at(tmp_path, clock) for _ in range(4)]  # one connection each, as processes have
    for n in range(100):
        await queues[0].enqueue(NewTask(name=f"t{n}", kind="batch", payload={}))
    claimed: list[str] = []

    async def drain(queue: SqliteTaskQueue, owner: str) -> None:
        while (task := await queue.claim(owner, 60)) is not None:
            claimed.append(task.name)

    await asyncio.gather(*(drain(q, f"p{i}") for i, q in enumerate(queues)))
    assert sorted(claimed) == sorted(f"t{n}" for n in range(100))
    for queue in queues:
        await queue.close()


async def test_failures_wait_their_backoff_and_the_last_one_fails_the_task_with_its_error(
    tmp_path: Path, clock: ManualClock
) -> None:
    queue = queue_at(tmp_path, clock)
    await queue.enqueue(NewTask(name="poison", kind="command", payload={}))
    for attempt, backoff in ((1, 10), (2, 20)):
        task = await queue.claim("me", 30)
        assert task is not None
        assert task.attempt == attempt
        assert await queue.retry_later("poison", "me", f"boom {attempt}")
        clock.advance(timedelta(seconds=backoff - 1))
        assert await queue.claim("me", 30) is None  # not before its backoff
        clock.advance(timedelta(seconds=1))
    assert await queue.claim("me", 30) is not None
    await queue.retry_later("poison", "me", "boom 3")
    stored = await queue.get("poison")
    assert stored is not None
    assert (stored.state, stored.attempts, stored.last_error) == ("failed", 3, "boom 3")
    report = await queue.report()
    assert [(q.queue, q.waiting, q.failed) for q in report.queues or []] == [("virtuoso-command", 0, 1)]
    await queue.close()


async def test_a_last_attempt_whose_process_died_fails_the_task(tmp_path: Path, clock: ManualClock) -> None:
    queue = queue_at(tmp_path, clock)
    await queue.enqueue(NewTask(name="t", kind="command", payload={}))
    for _ in range(3):
        assert await queue.claim("gone", 5) is not None
        clock.advance(timedelta(seconds=6))
    assert await queue.claim("next", 5) is None
    stored = await queue.get("t")
    assert stored is not None
    assert stored.state == "failed"
    assert "lease ran out" in (stored.last_error or "")
    await queue.close()


async def test_high_priority_is_taken_first(tmp_path: Path, clock: ManualClock) -> None:
    queue = queue_at(tmp_path, clock)
    await queue.enqueue(NewTask(name="normal", kind="command", payload={}))
    await queue.enqueue(NewTask(name="urgent", kind="command", payload={}, priority="high"))
    order = []
    while (task := await queue.claim("me", 30)) is not None:
        order.append(task.name)
        await queue.complete(task.name, "me")
    assert order == ["urgent", "normal"]
    await queue.close()
