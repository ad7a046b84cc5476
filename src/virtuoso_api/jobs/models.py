"""What the jobs routes take and answer, and the job record kept in the documents store."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from virtuoso_api.commands.models import CommandRequest
from virtuoso_api.kit.json_values import JSON_INTEGER, JsonBool
from virtuoso_api.kit.timestamps import UtcDatetime
from virtuoso_api.virtuoso.ids import CheckpointId

COLLECTION = "jobs"
#: The ids this service gives jobs: 16 random hex digits, or 24 derived from an idempotency key.
JOB_ID = re.compile(r"job_[0-9a-f]{16,24}")


class JobKind(StrEnum):
    COMMAND = "command"
    BATCH = "batch"
    SUITE = "suite"  # its handler is the suites domain's (suites/job.py), registered in services/


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in {JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED}


class Scheduling(BaseModel):
    """How a job is queued (the same fields on every async route)."""

    model_config = ConfigDict(extra="forbid")

    priority: Literal["high", "normal"] = Field(default="normal", description="`high` has its own queue")
    delay_seconds: Annotated[int, Field(ge=0, le=30 * 86400), JSON_INTEGER] = Field(
        default=0, description="Start no earlier than this"
    )


class AsyncCommandRequest(CommandRequest, Scheduling):
    """A command to run in the background: the body of ``POST /commands`` plus scheduling."""


class AsyncBatchRequest(Scheduling):
    model_config = ConfigDict(extra="forbid")

    commands: list[CommandRequest] = Field(min_length=1, max_length=200)
    checkpoint_id: CheckpointId | None = Field(default=None, description="For commands that name none")
    parallel: JsonBool = Field(
        default=False,
        description="Run the commands of different checkpoints at once; each checkpoint's keep their order",
    )
    continue_on_error: JsonBool = Field(
        default=False,
        description="Go on after a failure (otherwise the rest, or that checkpoint's rest, is skipped)",
    )


class Progress(BaseModel):
    done: int = 0
    total: int


class Job(BaseModel):
    """A job record: what was asked, by whom, and how far it got."""

    model_config = ConfigDict(extra="ignore")

    job_id: str
    kind: JobKind
    owner: str = Field(description="The user the job runs as")
    key_id: str | None = None
    status: JobStatus
    attempts: int = Field(default=0, description="Deliveries of its task so far")
    max_attempts: int
    progress: Progress
    request: dict[str, Any]
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    task_name: str
    queue: str
    cancel_requested: bool = False
    created_at: UtcDatetime
    updated_at: UtcDatetime
    started_at: UtcDatetime | None = None
    finished_at: UtcDatetime | None = None


class JobAccepted(BaseModel):
    """The answer of an async route (202)."""

    job_id: str
    kind: JobKind
    status: JobStatus
    task_name: str
    location: str = Field(description="Where to follow the job: GET this")


class JobPage(BaseModel):
    jobs: list[Job]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at the end")


class QueueStats(BaseModel):
    queue: str
    waiting: int
    running: int
    failed: int


class JobStats(BaseModel):
    backend: str = Field(description="`local` or `cloud-tasks`")
    queues: list[QueueStats] | None = Field(
        description="Tasks per queue (null on Cloud Tasks: its queue_depth metric has them)"
    )
    pending_enqueues: int = Field(
        description="Enqueues accepted while Cloud Tasks was unreachable, not sent yet"
    )
    jobs: dict[str, int] = Field(description="Jobs per status")
