"""The Cloud Tasks adapter (``USE_CLOUD_TASKS``): HTTP tasks pushed to ``/internal/tasks/{kind}``.

Each task is an HTTP POST of its payload to ``{PUBLIC_BASE_URL}/internal/tasks/{kind}`` with an OIDC
token Google mints for ``GCP_SERVICE_ACCOUNT_EMAIL`` (audience: that same URL), on the queue of its
kind and priority in ``GCP_LOCATION``. Retries are the queue's ``RetryConfig`` (created with the
same :class:`~virtuoso_api.infra.tasks.port.TaskRetry` as the local queue: see README).

Named tasks: Cloud Tasks refuses a second task of the same name with ALREADY_EXISTS, which this
adapter answers as "already enqueued" (``False``); a create retried after its answer was lost lands
there too. The adapter also remembers the names it created recently, so a repeat from this process
is answered without a call (the emulator does not dedupe names; this guard is what its tests see).

Every call goes through the resilience kit (``REMOTE_*`` budget, breaker). Imported only when
``USE_CLOUD_TASKS`` is on: the Google libraries are the optional ``gcp`` extra.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from google.api_core import exceptions as api_exceptions
from google.auth import exceptions as auth_exceptions
from google.cloud import tasks_v2
from google.protobuf import duration_pb2, timestamp_pb2

from virtuoso_api.errors import Misconfigured
from virtuoso_api.infra.tasks.port import NewTask, Priority, QueueReport, TaskRetry, queue_name
from virtuoso_api.kit.clock import Clock
from virtuoso_api.kit.recent import RecentValues
from virtuoso_api.resilience import RemoteCall

BACKEND: Final = "cloud-tasks"
#: Cloud Tasks lets an HTTP task's handler run for at most 30 minutes.
DISPATCH_DEADLINE_SECONDS: Final = 1800
_REMEMBER: Final = timedelta(hours=1)

_TRANSIENT: Final = (
    TimeoutError,
    api_exceptions.ServiceUnavailable,
    api_exceptions.DeadlineExceeded,
    api_exceptions.ResourceExhausted,
    api_exceptions.InternalServerError,
    auth_exceptions.TransportError,
)


def _transient(exc: BaseException) -> bool:
    return isinstance(exc, _TRANSIENT)


class CloudTasksQueue:
    backend = BACKEND

    def __init__(
        self,
        client: tasks_v2.CloudTasksAsyncClient,
        *,
        project: str,
        location: str,
        prefix: str,
        base_url: str,
        service_account_email: str,
        retry: TaskRetry,
        remote: RemoteCall,
        clock: Clock,
    ) -> None:
        self._client = client
        self._project = project
        self._location = location
        self._prefix = prefix
        self._base_url = base_url.rstrip("/")
        self._email = service_account_email
        self.retry = retry
        self._remote = remote
        self._created: RecentValues[str, bool] = RecentValues(clock, max_entries=100_000)

    def queue_path(self, queue: str) -> str:
        return self._client.queue_path(self._project, self._location, queue)

    def target_url(self, kind: str) -> str:
        return f"{self._base_url}/internal/tasks/{kind}"

    async def enqueue(self, task: NewTask) -> bool:
        queue = self.queue_path(queue_name(self._prefix, task.kind, task.priority))
        name = f"{queue}/tasks/{task.name}"
        if self._created.get(name, max_age=_REMEMBER):
            return False
        url = self.target_url(task.kind)
        headers = {"Content-Type": "application/json"}
        traceparent = task.payload.get("traceparent")
        if isinstance(traceparent, str):  # the push's request span joins the submitter's trace
            headers["traceparent"] = traceparent
        request = tasks_v2.HttpRequest(
            url=url,
            http_method=tasks_v2.HttpMethod.POST,
            headers=headers,
            body=json.dumps(task.payload, separators=(",", ":")).encode(),
            oidc_token=tasks_v2.OidcToken(service_account_email=self._email, audience=url),
        )
        created: dict[str, Any] = {
            "name": name,
            "http_request": request,
            "dispatch_deadline": duration_pb2.Duration(seconds=DISPATCH_DEADLINE_SECONDS),
        }
        if task.delay_seconds > 0:
            due = timestamp_pb2.Timestamp()
            # Cloud Tasks keeps its own time: the delay is counted from the wall clock, not the service's
            # (to the nanosecond: whole seconds would schedule up to a second early).
            due.FromDatetime(datetime.now(UTC) + timedelta(seconds=task.delay_seconds))
            created["schedule_time"] = due
        try:
            await self._remote(
                lambda timeout: self._client.create_task(
                    parent=queue, task=tasks_v2.Task(**created), retry=None, timeout=timeout
                ),
                what=f"creating task {task.name}",
                transient=_transient,
            )
        except api_exceptions.AlreadyExists:
            self._created.put(name, True)
            return False
        except (
            api_exceptions.NotFound,
            api_exceptions.PermissionDenied,
            api_exceptions.InvalidArgument,
        ) as exc:
            raise Misconfigured(
                f"Cloud Tasks refused the task ({type(exc).__name__}): check that queue {queue} exists "
                "and that the service may enqueue to it and act as GCP_SERVICE_ACCOUNT_EMAIL (README)"
            ) from exc
        self._created.put(name, True)
        return True

    async def create_queues(self, kinds: list[str]) -> list[str]:
        """Create the queue of every kind and priority with :attr:`retry` (existing ones are kept as
        they are). For the emulator and first set-up; production queues are made as the README says."""
        made: list[str] = []
        parent = self._client.common_location_path(self._project, self._location)
        priorities: tuple[Priority, ...] = ("normal", "high")
        for kind in kinds:
            for priority in priorities:
                name = self.queue_path(queue_name(self._prefix, kind, priority))
                queue = tasks_v2.Queue(name=name, retry_config=self._retry_config())

                async def create(timeout: float, queue: tasks_v2.Queue = queue) -> object:
                    return await self._client.create_queue(
                        parent=parent, queue=queue, retry=None, timeout=timeout
                    )

                try:
                    await self._remote(create, what=f"creating queue {name}", transient=_transient)
                except api_exceptions.AlreadyExists:
                    continue
                made.append(name)
        return made

    def _retry_config(self) -> tasks_v2.RetryConfig:
        return tasks_v2.RetryConfig(
            max_attempts=self.retry.max_attempts,
            min_backoff=duration_pb2.Duration(seconds=int(self.retry.min_backoff)),
            max_backoff=duration_pb2.Duration(seconds=int(self.retry.max_backoff)),
            max_doublings=self.retry.max_doublings,
        )

    async def report(self) -> QueueReport:
        # Cloud Tasks v2 does not count a queue's tasks; its queue_depth metric in Cloud Monitoring does.
        return QueueReport(self.backend, None)

    async def ping(self) -> None:
        queue = self.queue_path(queue_name(self._prefix, "command"))
        try:
            await self._remote(
                lambda timeout: self._client.get_queue(name=queue, retry=None, timeout=timeout),
                what=f"reading queue {queue}",
                transient=_transient,
            )
        except (api_exceptions.NotFound, api_exceptions.PermissionDenied) as exc:
            raise Misconfigured(f"Cloud Tasks: queue {queue} is missing or not readable") from exc

    async def close(self) -> None:
        await self._client.transport.close()  # type: ignore[no-untyped-call]


def build_client(emulator_host: str | None) -> tasks_v2.CloudTasksAsyncClient:
    """The async client: Application Default Credentials, or a plain channel to an emulator (the
    client honours no emulator variable of its own)."""
    if emulator_host is None:
        return tasks_v2.CloudTasksAsyncClient()
    import grpc  # type: ignore[import-untyped]
    from google.cloud.tasks_v2.services.cloud_tasks.transports import CloudTasksGrpcAsyncIOTransport

    # An emulator comes and goes during development: reconnect within a second, not gRPC's two minutes.
    options = [("grpc.initial_reconnect_backoff_ms", 100), ("grpc.max_reconnect_backoff_ms", 1000)]
    channel = grpc.aio.insecure_channel(emulator_host, options=options)
    return tasks_v2.CloudTasksAsyncClient(transport=CloudTasksGrpcAsyncIOTransport(channel=channel))
