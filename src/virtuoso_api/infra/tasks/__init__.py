"""The tasks capability: port, local queue and dispatcher, Cloud Tasks, and the factory.

``build_tasks`` picks the backend from ``USE_CLOUD_TASKS``: the local queue in
``DATA_DIR/tasks.sqlite3`` (run by :class:`LocalDispatcher` in every serving process), or Cloud
Tasks (pushing to ``/internal/tasks/{kind}``, whose callers :class:`Tasks.verifier` checks). An
enqueue Cloud Tasks cannot take now waits in the outbox's ``tasks`` channel and is sent when it
answers again: a job is accepted once it is durably recorded, not once Google answered.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from virtuoso_api.config import Settings
from virtuoso_api.errors import Misconfigured
from virtuoso_api.infra.outbox import Outbox, OutboxChannel
from virtuoso_api.infra.tasks.dispatcher import LocalDispatcher, dispatching
from virtuoso_api.infra.tasks.local_sqlite import LeasedTask, SqliteTaskQueue, StoredTask
from virtuoso_api.infra.tasks.port import (
    Delivery,
    Finished,
    NewTask,
    Priority,
    QueueDepth,
    QueueReport,
    RetryLater,
    TaskHandler,
    TaskOutcome,
    TaskQueue,
    TaskRetry,
    queue_name,
    run_handler,
)
from virtuoso_api.kit.clock import Clock
from virtuoso_api.kit.lifecycle import Needs, PeriodicJob
from virtuoso_api.resilience import RemoteCall

__all__ = [
    "Delivery",
    "Finished",
    "LeasedTask",
    "LocalDispatcher",
    "NewTask",
    "Priority",
    "PushVerifier",
    "QueueDepth",
    "QueueReport",
    "RetryLater",
    "SqliteTaskQueue",
    "StoredTask",
    "TaskHandler",
    "TaskOutcome",
    "TaskQueue",
    "TaskRetry",
    "Tasks",
    "build_tasks",
    "check_libraries",
    "queue_name",
    "run_handler",
]

CHANNEL = "tasks"


class PushVerifier(Protocol):
    async def verify(self, authorization: str | None, *, audience: str) -> Mapping[str, Any]:
        """The caller's claims; raises :class:`~virtuoso_api.errors.Unauthorized` otherwise."""
        ...


def retry_of(settings: Settings) -> TaskRetry:
    return TaskRetry(
        max_attempts=settings.tasks_max_attempts,
        min_backoff=settings.tasks_min_backoff_seconds,
        max_backoff=settings.tasks_max_backoff_seconds,
        max_doublings=settings.tasks_max_doublings,
    )


@dataclass
class Tasks:
    """The tasks capability as the root hands it out."""

    queue: TaskQueue
    retry: TaskRetry
    settings: Settings
    #: Checks the OIDC token of a Cloud Tasks push (Cloud Tasks mode only; locally nothing is pushed).
    verifier: PushVerifier | None = None
    channel: OutboxChannel | None = None

    @property
    def backend(self) -> str:
        return self.queue.backend

    async def enqueue(self, task: NewTask) -> bool:
        """Enqueue now, or (Cloud Tasks unreachable) keep it in the outbox for later; ``True`` when
        it is on the queue now, ``False`` when it waits in the outbox or was already enqueued."""
        if self.channel is None:
            return await self.queue.enqueue(task)
        return await self.channel.deliver(asdict(task))

    async def pending_enqueues(self) -> int:
        return 0 if self.channel is None else await self.channel.pending()

    def needs(self) -> Needs:
        if not isinstance(self.queue, SqliteTaskQueue):
            return Needs()
        return Needs(periodic=(PeriodicJob("purge finished tasks", 3600, self.queue.purge_finished),))

    def push_url(self, kind: str) -> str:
        """The URL (and OIDC audience) Cloud Tasks pushes tasks of ``kind`` to."""
        return f"{str(self.settings.public_base_url).rstrip('/')}/internal/tasks/{kind}"

    @contextlib.asynccontextmanager
    async def dispatching(self, handler: TaskHandler) -> AsyncIterator[LocalDispatcher | None]:
        """Run the local dispatcher with ``handler`` for the block (Cloud Tasks pushes instead)."""
        if not isinstance(self.queue, SqliteTaskQueue):
            yield None
            return
        dispatcher = LocalDispatcher(
            self.queue,
            handler,
            concurrency=self.settings.tasks_concurrency,
            lease_seconds=self.settings.tasks_lease_seconds,
        )
        async with dispatching(dispatcher):
            yield dispatcher


def check_libraries(settings: Settings) -> None:
    if not settings.use_cloud_tasks:
        return
    try:
        importlib.import_module("google.cloud.tasks_v2")
    except ImportError as exc:
        raise Misconfigured(
            "USE_CLOUD_TASKS is on but the Google Cloud libraries are missing: "
            "pip install 'virtuoso-api[gcp]'"
        ) from exc


@contextlib.asynccontextmanager
async def build_tasks(settings: Settings, *, clock: Clock, outbox: Outbox) -> AsyncIterator[Tasks]:
    check_libraries(settings)
    retry = retry_of(settings)
    if not settings.use_cloud_tasks:
        local = SqliteTaskQueue(
            settings.data_dir / "tasks.sqlite3", clock=clock, retry=retry, prefix=settings.tasks_queue_prefix
        )
        try:
            yield Tasks(local, retry, settings)
        finally:
            await local.close()
        return
    # Imported here: the google libraries are the optional ``gcp`` extra.
    from virtuoso_api.infra.tasks.gcp_cloud_tasks import CloudTasksQueue, build_client
    from virtuoso_api.infra.tasks.gcp_oidc import OidcVerifier

    remote = RemoteCall.from_settings("cloud-tasks", settings, clock=clock)
    # Settings refuse USE_CLOUD_TASKS without these; the asserts tell the type checker.
    assert settings.gcp_project_id
    assert settings.public_base_url
    assert settings.gcp_service_account_email
    cloud = CloudTasksQueue(
        build_client(settings.cloud_tasks_emulator_host),
        project=settings.gcp_project_id,
        location=settings.gcp_location,
        prefix=settings.tasks_queue_prefix,
        base_url=str(settings.public_base_url),
        service_account_email=settings.gcp_service_account_email,
        retry=retry,
        remote=remote,
        clock=clock,
    )

    async def send(payload: Any) -> None:
        await cloud.enqueue(NewTask(**payload))

    # A task Cloud Tasks refuses for good (a missing queue, no permission) must not block the rest.
    channel = outbox.channel(CHANNEL, send, refused=(Misconfigured, ValueError, TypeError))
    verifier = OidcVerifier(
        service_account_email=settings.gcp_service_account_email, certs_url=str(settings.tasks_oidc_certs_url)
    )
    try:
        yield Tasks(cloud, retry, settings, verifier=verifier, channel=channel)
    finally:
        await verifier.close()
        await cloud.close()
