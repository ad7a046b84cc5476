"""Cloud Tasks: one queue per job kind and priority, with the retry settings the service is given
(``TASKS_MAX_ATTEMPTS``, ``TASKS_MIN_BACKOFF_SECONDS``, ``TASKS_MAX_BACKOFF_SECONDS``,
``TASKS_MAX_DOUBLINGS``), as the local queue applies them; a queue whose retry settings differ is
updated to them."""

from __future__ import annotations

from typing import Any

from google.cloud import tasks_v2
from google.protobuf import duration_pb2, field_mask_pb2

from virtuoso_api.config import Settings
from virtuoso_api.gcp.bootstrap.plan import Change, call, reconcile
from virtuoso_api.infra.tasks import TaskRetry, queue_name
from virtuoso_api.infra.tasks import retry_of as _retry_of
from virtuoso_api.infra.tasks.gcp_cloud_tasks import build_client
from virtuoso_api.jobs.models import JobKind
from virtuoso_api.kit.clock import SystemClock
from virtuoso_api.resilience import RemoteCall

CAPABILITY = "Cloud Tasks"
PRIORITIES = ("normal", "high")


def wanted_retry(retry: TaskRetry) -> tasks_v2.RetryConfig:
    return tasks_v2.RetryConfig(
        max_attempts=retry.max_attempts,
        min_backoff=duration_pb2.Duration(seconds=int(retry.min_backoff)),
        max_backoff=duration_pb2.Duration(seconds=int(retry.max_backoff)),
        max_doublings=retry.max_doublings,
    )


def retry_update(
    existing: tasks_v2.Queue, wanted: tasks_v2.RetryConfig
) -> tasks_v2.UpdateQueueRequest | None:
    """The request that brings ``existing``'s retry settings to ``wanted``, or None if they match."""
    have = existing.retry_config
    same = (
        have.max_attempts == wanted.max_attempts
        and have.min_backoff == wanted.min_backoff
        and have.max_backoff == wanted.max_backoff
        and have.max_doublings == wanted.max_doublings
    )
    if same:
        return None
    return tasks_v2.UpdateQueueRequest(
        queue=tasks_v2.Queue(name=existing.name, retry_config=wanted),
        update_mask=field_mask_pb2.FieldMask(paths=["retry_config"]),
    )


def describe(retry: TaskRetry) -> str:
    return (
        f"retry: {retry.max_attempts} attempts, backoff {int(retry.min_backoff)}s to "
        f"{int(retry.max_backoff)}s, {retry.max_doublings} doublings"
    )


class TasksProvisioner:
    capability = CAPABILITY

    def __init__(self, settings: Settings, client: Any | None = None) -> None:
        assert settings.gcp_project_id  # Settings refuse a USE_* flag without it
        self._settings = settings
        self._project = settings.gcp_project_id
        self._client = client or build_client(settings.cloud_tasks_emulator_host)
        self._remote = RemoteCall.from_settings("cloud-tasks", settings, clock=SystemClock())
        self._retry = _retry_of(settings)
        # gcloud-tasks-emulator ignores a queue's retry settings (it keeps no backoff and takes no
        # update): compared there, every run would "update" them again.
        self._compare_retry = settings.cloud_tasks_emulator_host is None

    def queue_names(self) -> list[str]:
        prefix = self._settings.tasks_queue_prefix
        return [queue_name(prefix, kind.value, p) for kind in JobKind for p in PRIORITIES]  # type: ignore[arg-type]

    async def provision(self, *, dry_run: bool) -> list[Change]:
        parent = f"projects/{self._project}/locations/{self._settings.gcp_location}"
        existing = {queue.name: queue for queue in await self._list(parent)}
        return [await self._queue(parent, short, existing, dry_run) for short in self.queue_names()]

    async def _queue(
        self, parent: str, short: str, existing: dict[str, tasks_v2.Queue], dry_run: bool
    ) -> Change:
        name = f"{parent}/queues/{short}"
        wanted = wanted_retry(self._retry)

        def differs(queue: tasks_v2.Queue) -> tasks_v2.UpdateQueueRequest | None:
            return retry_update(queue, wanted) if self._compare_retry else None

        async def create() -> None:
            queue = tasks_v2.Queue(name=name, retry_config=wanted)
            await call(
                self._remote,
                lambda t: self._client.create_queue(parent=parent, queue=queue, timeout=t, retry=None),
                what=f"creating queue {short}",
            )

        async def update(_: tasks_v2.Queue, request: tasks_v2.UpdateQueueRequest) -> None:
            await call(
                self._remote,
                lambda t: self._client.update_queue(request=request, timeout=t, retry=None),
                what=f"updating queue {short}",
            )

        return await reconcile(
            CAPABILITY,
            "queue",
            name,
            found=existing.get(name),
            create=create,
            differs=differs,
            update=update,
            detail=describe(self._retry),
            dry_run=dry_run,
        )

    async def _list(self, parent: str) -> list[tasks_v2.Queue]:
        async def attempt(timeout: float) -> list[tasks_v2.Queue]:
            pages = await self._client.list_queues(parent=parent, timeout=timeout, retry=None)
            return [queue async for queue in pages]

        return await call(self._remote, attempt, what="listing queues")

    async def aclose(self) -> None:
        await self._client.transport.close()
