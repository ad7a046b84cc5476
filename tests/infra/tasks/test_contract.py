"""The tasks contract: what every :class:`~virtuoso_api.infra.tasks.TaskQueue` promises, run against
the local queue (its SQLite file and the in-process dispatcher, on the service's clock) and against
Cloud Tasks (``gcloud-tasks-emulator``, pushing over HTTP to a receiver that applies the service's
own push rules, ``infra/tasks/push.py``, as ``/internal/tasks/{kind}`` does).

Where the emulator lacks a behaviour, what is tested there instead:

- it accepts a task name twice: the adapter's own guard (the names it created) answers ``False``;
- it ignores the queue's RetryConfig and retries at once: it is started with ``-r 2`` (three
  attempts, as ``RETRY``), so attempts and the stop after the last are Cloud Tasks' rule, while the
  backoff between them is checked on the local queue (``test_local_queue.py``) and, for Cloud Tasks,
  as the RetryConfig its queues are created with (``tests/jobs/test_cloud_tasks.py``);
- it schedules on the wall clock: a delayed task is checked not to arrive before its schedule
  (``at >= before + delay``), never against a duration.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tests.fixtures.tasks_emulator import SERVICE_ACCOUNT, serving, tasks_emulator
from tests.processes import free_port
from virtuoso_api.infra.tasks import (
    Delivery,
    Finished,
    LocalDispatcher,
    NewTask,
    Priority,
    RetryLater,
    SqliteTaskQueue,
    TaskOutcome,
    TaskQueue,
    TaskRetry,
    queue_name,
    run_handler,
)
from virtuoso_api.infra.tasks.dispatcher import dispatching
from virtuoso_api.infra.tasks.push import answer_of, delivery_of, payload_of
from virtuoso_api.kit.clock import ManualClock, SystemClock
from virtuoso_api.resilience import CircuitBreaker, RemoteCall, RetryBudget

pytestmark = pytest.mark.timeout(120)

RETRY = TaskRetry(max_attempts=3, min_backoff=1, max_backoff=4, max_doublings=2)
PREFIX = "virtuoso"
#: A bound on waiting for a delivery (the emulator polls every 0.1 s), never a measurement.
_WAIT_ROUNDS = 1500
Script = Callable[[Delivery], TaskOutcome]


def _finished(_: Delivery) -> TaskOutcome:
    return Finished()


@dataclass
class Seen:
    delivery: Delivery
    at: datetime  # the harness's clock when the handler was called
    answer: TaskOutcome | None = None


@dataclass
class Harness:
    """One adapter under the contract: its queue, a handler that records each delivery and answers
    as the test's script says (``Finished`` by default), and the clock tasks are due by."""

    queue: TaskQueue
    now: Callable[[], datetime]
    #: Moves the clock tasks are due by, once the queue has taken every answer given so far.
    advance: Callable[[float], Awaitable[None]]
    scripts: dict[str, Script] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    _markers: itertools.count[int] = field(default_factory=itertools.count)

    async def handle(self, delivery: Delivery) -> TaskOutcome:
        record = Seen(delivery, self.now())
        self.seen.append(record)
        record.answer = self.scripts.get(delivery.name, _finished)(delivery)
        return record.answer

    def of(self, name: str) -> list[Delivery]:
        return [s.delivery for s in self.seen if s.delivery.name == name]

    async def delivered(self, name: str, count: int = 1) -> list[Delivery]:
        """The deliveries of ``name`` once there are ``count`` of them."""
        for _ in range(_WAIT_ROUNDS):
            if len(self.of(name)) >= count:
                return self.of(name)
            await asyncio.sleep(0.02)
        raise AssertionError(f"{name}: {len(self.of(name))} deliveries, not {count}: {self.seen}")

    async def drained(self, kind: str = "command", priority: Priority = "normal") -> None:
        """Every retry already due on that queue has been delivered: two markers enqueued one after
        the other have arrived (the second after the first's answer was taken, so a retry queued
        behind the first marker is ahead of the second)."""
        for _ in range(2):
            marker = f"marker-{next(self._markers)}"
            assert await self.queue.enqueue(NewTask(name=marker, kind=kind, payload={}, priority=priority))
            await self.delivered(marker)


@contextlib.asynccontextmanager
async def local_queue(tmp_path: Path) -> AsyncIterator[Harness]:
    clock = ManualClock()
    queue = SqliteTaskQueue(tmp_path / "tasks.sqlite3", clock=clock, retry=RETRY, prefix=PREFIX)

    async def advance(seconds: float) -> None:
        # An answer is applied after the handler returns: a retry's due time counts from then.
        for _ in range(_WAIT_ROUNDS):
            if dispatcher.finished >= len(harness.seen):
                break
            await asyncio.sleep(0.01)
        clock.advance(timedelta(seconds=seconds))

    harness = Harness(queue, clock.now, advance)
    # One at a time: a task due earlier is delivered before one due later (drained() relies on it).
    dispatcher = LocalDispatcher(queue, harness.handle, concurrency=1, lease_seconds=30, poll_seconds=0.01)
    try:
        async with dispatching(dispatcher):
            yield harness
    finally:
        await queue.close()


@contextlib.asynccontextmanager
async def cloud_tasks(tmp_path: Path) -> AsyncIterator[Harness]:
    pytest.importorskip("google.cloud.tasks_v2", reason="the gcp extra is not installed")
    from virtuoso_api.infra.tasks.gcp_cloud_tasks import CloudTasksQueue, build_client

    with tasks_emulator(retries=RETRY.max_attempts - 1) as host:
        port = free_port()
        clock = SystemClock()
        queue = CloudTasksQueue(
            build_client(host),
            project="demo-contract",
            location="us-central1",
            prefix=PREFIX,
            base_url=f"http://127.0.0.1:{port}",
            service_account_email=SERVICE_ACCOUNT,
            retry=RETRY,
            remote=RemoteCall("cloud-tasks", budget=RetryBudget(), breaker=CircuitBreaker("ct", clock=clock)),
            clock=clock,
        )

        async def advance(_: float) -> None:
            """Cloud Tasks keeps its own (wall) clock, which moves by itself."""

        harness = Harness(queue, lambda: datetime.now(UTC), advance)
        receiver = FastAPI()

        @receiver.post("/internal/tasks/{kind}")
        async def push(kind: str, request: Request) -> JSONResponse:
            payload = payload_of(await request.body())
            delivery = delivery_of(kind, request.headers, payload, max_attempts=RETRY.max_attempts)
            answer = answer_of(await run_handler(harness.handle, delivery), delivery)
            return JSONResponse(answer.body, status_code=answer.status, headers=answer.headers)

        try:
            await queue.create_queues(["command", "batch"])
            async with serving(receiver, port):
                yield harness
        finally:
            await queue.close()


ADAPTERS = {"local": local_queue, "cloud-tasks": cloud_tasks}


@pytest.fixture(params=list(ADAPTERS))
async def harness(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Harness]:
    async with ADAPTERS[request.param](tmp_path) as running:
        yield running


async def test_a_named_task_is_delivered_to_the_handler_with_its_payload(harness: Harness) -> None:
    payload: dict[str, Any] = {"job_id": "job_0123456789abcdef", "n": 1, "text": "héllo ✓", "list": [1, None]}
    assert await harness.queue.enqueue(NewTask(name="job_0123456789abcdef", kind="command", payload=payload))
    (delivery,) = await harness.delivered("job_0123456789abcdef")
    assert delivery == Delivery(
        name="job_0123456789abcdef",
        kind="command",
        payload=payload,
        attempt=1,
        max_attempts=RETRY.max_attempts,
        queue="virtuoso-command",
    )


async def test_the_same_name_twice_is_a_no_op(harness: Harness) -> None:
    # On the emulator, which accepts a name twice, this is the adapter's own guard answering.
    task = NewTask(name="once", kind="command", payload={"n": 1})
    assert await harness.queue.enqueue(task) is True
    assert await harness.queue.enqueue(NewTask(name="once", kind="command", payload={"n": 2})) is False
    await harness.delivered("once")
    assert await harness.queue.enqueue(task) is False  # the name stays taken after the task ran
    await harness.drained()
    assert [d.payload for d in harness.of("once")] == [{"n": 1}]


async def test_a_delayed_task_is_not_delivered_before_its_time(harness: Harness) -> None:
    before = harness.now()
    assert await harness.queue.enqueue(NewTask(name="later", kind="command", payload={}, delay_seconds=2))
    assert await harness.queue.enqueue(NewTask(name="now", kind="command", payload={}))
    await harness.delivered("now")
    await harness.advance(2)  # the service's clock (local); Cloud Tasks' own clock moves by itself
    await harness.delivered("later")
    (later,) = [s for s in harness.seen if s.delivery.name == "later"]
    assert later.at >= before + timedelta(seconds=2)
    assert [s.delivery.name for s in harness.seen] == ["now", "later"]


async def test_each_kind_and_priority_has_its_queue(harness: Harness) -> None:
    wanted: list[tuple[str, str, Priority]] = [
        ("c-normal", "command", "normal"),
        ("c-high", "command", "high"),
        ("b-normal", "batch", "normal"),
        ("b-high", "batch", "high"),
    ]
    for name, kind, priority in wanted:
        assert await harness.queue.enqueue(NewTask(name=name, kind=kind, payload={}, priority=priority))
    for name, kind, priority in wanted:
        (delivery,) = await harness.delivered(name)
        assert (delivery.kind, delivery.queue) == (kind, queue_name(PREFIX, kind, priority))
    assert {"virtuoso-command", "virtuoso-command-high", "virtuoso-batch", "virtuoso-batch-high"} == {
        s.delivery.queue for s in harness.seen
    }


async def test_retry_later_is_delivered_again_with_the_next_attempt_until_the_last(harness: Harness) -> None:
    harness.scripts["poison"] = lambda d: RetryLater(f"not yet ({d.attempt})")
    harness.scripts["flaky"] = lambda d: RetryLater("once more") if d.attempt == 1 else Finished()
    for name in ("poison", "flaky"):
        assert await harness.queue.enqueue(NewTask(name=name, kind="command", payload={"name": name}))
    for attempts in range(1, RETRY.max_attempts + 1):
        await harness.delivered("poison", attempts)
        await harness.advance(RETRY.max_backoff)  # the local queue's backoff, on the service's clock
    await harness.drained()
    # The attempt is the queue's count (Cloud Tasks: X-CloudTasks-TaskRetryCount + 1).
    assert [(d.attempt, d.is_last) for d in harness.of("poison")] == [(1, False), (2, False), (3, True)]
    assert [d.attempt for d in harness.of("flaky")] == [1, 2]  # finished: not delivered again
    assert {d.payload["name"] for d in harness.of("poison")} == {"poison"}


async def test_a_handler_that_raises_is_retried_like_retry_later(harness: Harness) -> None:
    def bug(delivery: Delivery) -> TaskOutcome:
        if delivery.attempt == 1:
            raise RuntimeError("a bug in the handler")
        return Finished()

    harness.scripts["bug"] = bug
    assert await harness.queue.enqueue(NewTask(name="bug", kind="batch", payload={}))
    await harness.delivered("bug")
    await harness.advance(RETRY.max_backoff)
    assert [d.attempt for d in await harness.delivered("bug", 2)] == [1, 2]
    await harness.drained("batch")
    assert len(harness.of("bug")) == 2
