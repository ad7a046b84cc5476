"""The tasks capability: named tasks on queues, delivered to one handler, retried Cloud Tasks' way.

Two adapters keep the same contract (``tests/infra/tasks/test_contract.py``): the local queue in
the data folder (``local_sqlite.py``, run by the in-process dispatcher) and Cloud Tasks
(``gcp_cloud_tasks.py``, which pushes each task to ``/internal/tasks/{kind}``). Either way the same
:data:`TaskHandler` runs the task, and what it answers decides what happens next:

- :class:`Finished`: the task is done (its work succeeded, or failed for good and recorded so);
- :class:`RetryLater`: try again after the queue's backoff, until ``max_attempts`` were made.

Semantics both adapters keep:

- A task has a *name* (from the job it runs). Enqueueing a name that is already there is a no-op
  that answers ``False``; nothing runs twice because of it.
- A task waits on the queue of its kind and priority (:func:`queue_name`), optionally for a delay.
- Retries follow :class:`TaskRetry`, Cloud Tasks' own rule: ``min_backoff`` doubling
  ``max_doublings`` times, then growing by that last step, never past ``max_backoff``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Final, Literal, Protocol, TypeAlias

from virtuoso_api.kit.redact import redact

logger = logging.getLogger(__name__)

TaskKind: TypeAlias = str
Priority = Literal["high", "normal"]

#: Cloud Tasks' rule for the last part of a task name; the local queue applies it too.
_TASK_ID: Final = re.compile(r"[A-Za-z0-9_-]{1,500}")
_KIND: Final = re.compile(r"[a-z][a-z0-9-]{0,30}")


@dataclass(frozen=True, slots=True)
class NewTask:
    """A task to enqueue: ``payload`` (a JSON object) goes to the handler of ``kind``."""

    name: str
    kind: TaskKind
    payload: dict[str, Any]
    priority: Priority = "normal"
    delay_seconds: float = 0.0

    def __post_init__(self) -> None:
        if not _TASK_ID.fullmatch(self.name):
            raise ValueError(f"task name {self.name!r:.60}: letters, digits, '-' and '_', 1 to 500")
        if not _KIND.fullmatch(self.kind):
            raise ValueError(f"task kind {self.kind!r:.40}: lower-case letters, digits and '-'")
        if not 0 <= self.delay_seconds <= 30 * 86400:  # Cloud Tasks schedules at most 30 days ahead
            raise ValueError("delay_seconds must be between 0 and 30 days")


def queue_name(prefix: str, kind: TaskKind, priority: Priority = "normal") -> str:
    """``virtuoso-command``, ``virtuoso-command-high``, ``virtuoso-batch``...: one queue per kind and
    priority, so a flood of batches never delays a single command."""
    return f"{prefix}-{kind}" + ("-high" if priority == "high" else "")


@dataclass(frozen=True, slots=True)
class TaskRetry:
    """Cloud Tasks' ``RetryConfig``: the queues are created with these (README), the local queue
    applies them itself."""

    max_attempts: int = 5
    min_backoff: float = 10.0
    max_backoff: float = 300.0
    max_doublings: int = 3

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not 0 <= self.min_backoff <= self.max_backoff:
            raise ValueError("backoff must satisfy 0 <= min_backoff <= max_backoff")
        if self.max_doublings < 0:
            raise ValueError("max_doublings must be 0 or more")

    def backoff(self, failed_attempts: int) -> float:
        """Seconds to wait after the ``failed_attempts``-th failure (1 for the first).

        Cloud Tasks: "the interval doubles max_doublings times, then increases linearly, and finally
        stays at max_backoff", e.g. 10, 20, 40, 80, 160, 240, 300, 300 for (10, 300, 3)."""
        if failed_attempts < 1:
            raise ValueError("failed_attempts counts from 1")
        doublings = min(failed_attempts - 1, self.max_doublings)
        interval = self.min_backoff * 2**doublings
        linear_steps = failed_attempts - 1 - doublings
        interval += linear_steps * self.min_backoff * 2**self.max_doublings
        return float(min(interval, self.max_backoff))


@dataclass(frozen=True, slots=True)
class Delivery:
    """One attempt at a task, as the handler sees it. ``attempt`` counts from 1."""

    name: str
    kind: TaskKind
    payload: dict[str, Any]
    attempt: int
    max_attempts: int
    queue: str = ""

    @property
    def is_last(self) -> bool:
        """No attempt follows this one: a failure now is the task's final answer."""
        return self.attempt >= self.max_attempts


@dataclass(frozen=True, slots=True)
class Finished:
    """The task needs no further attempt (its work succeeded or failed for good)."""

    note: str = ""


@dataclass(frozen=True, slots=True)
class RetryLater:
    """The attempt failed in a way another attempt may fix; ``error`` is kept as the last error."""

    error: str
    retry_after_seconds: float | None = None


TaskOutcome: TypeAlias = Finished | RetryLater
TaskHandler: TypeAlias = Callable[[Delivery], Awaitable[TaskOutcome]]


async def run_handler(handler: TaskHandler, delivery: Delivery) -> TaskOutcome:
    """The handler's outcome; an exception it raises (a bug) is a :class:`RetryLater` with its
    redacted text as the error, on either backend, so the task is tried again and the error kept."""
    try:
        return await handler(delivery)
    except Exception as exc:
        logger.exception("task %s: handler failed", delivery.name)
        return RetryLater(redact(f"{type(exc).__name__}: {exc}")[:2000])


@dataclass(frozen=True, slots=True)
class QueueDepth:
    """Tasks on one queue: ``waiting`` (due or delayed), ``running`` (leased now), ``failed``
    (given up after the last attempt, kept for a while)."""

    queue: str
    waiting: int
    running: int
    failed: int = 0


@dataclass(frozen=True, slots=True)
class QueueReport:
    backend: str
    #: ``None`` where the backend does not say (Cloud Tasks: see its queue_depth metric).
    queues: list[QueueDepth] | None = field(default=None)


class TaskQueue(Protocol):
    """Where tasks wait until a handler runs them. Methods may raise
    :class:`~virtuoso_api.errors.BackendUnavailable` when the queue does not answer."""

    @property
    def backend(self) -> str:
        """``local`` or ``cloud-tasks``: for readiness and stats."""
        ...

    async def enqueue(self, task: NewTask) -> bool:
        """Add ``task``; ``False`` (and nothing added) when a task of that name is already there."""
        ...

    async def report(self) -> QueueReport:
        """Queue depths, where the backend can tell them."""
        ...

    async def ping(self) -> None:
        """Return when the queue answers; raise ``BackendUnavailable`` when it does not."""
        ...

    async def close(self) -> None: ...
