"""Every kind of event the service publishes, and the versioned schema of each one's ``data``.

Names are dotted and lower-case (``command.executed``), as webhooks subscribe to them and the live
stream filters on them. Each schema is a pydantic model; its JSON Schema is served at
``GET /api/v1/events/types`` and named in every event's ``dataschema``. A schema changes only by
adding optional fields; anything else is a new version (``v2``) published beside the old one.
Extra fields are refused, so a schema says everything an event can carry.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from virtuoso_api.virtuoso.ids import CheckpointId


class EventType(StrEnum):
    COMMAND_EXECUTED = "command.executed"
    COMMAND_FAILED = "command.failed"
    BATCH_COMPLETED = "batch.completed"
    JOB_STARTED = "job.started"
    JOB_COMPLETED = "job.completed"
    JOB_FAILED = "job.failed"
    JOB_CANCELLED = "job.cancelled"
    SUITE_RUN_STARTED = "suite_run.started"
    SUITE_RUN_COMPLETED = "suite_run.completed"
    SUITE_RUN_FAILED = "suite_run.failed"
    RUN_STARTED = "run.started"
    RUN_FINISHED = "run.finished"
    SESSION_CREATED = "session.created"
    SESSION_ENDED = "session.ended"
    API_KEY_CREATED = "api_key.created"
    API_KEY_REVOKED = "api_key.revoked"
    SECRET_ROTATED = "secret.rotated"
    WEBHOOK_DELIVERY_FAILED = "webhook.delivery_failed"
    WEBHOOK_DISABLED = "webhook.disabled"
    WEBHOOK_TEST = "webhook.test"


class EventData(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CommandEvent(EventData):
    """A command ran (``command.executed``) or failed (``command.failed``), from any interface."""

    command: str = Field(max_length=100)
    args: list[str] = Field(default_factory=list, max_length=200)
    success: bool = True
    checkpoint_id: CheckpointId | None = None
    session_id: str | None = None
    step_id: int | None = None
    position: int | None = None
    action: str | None = None
    duration_ms: float | None = Field(default=None, ge=0)
    source: str | None = Field(default=None, description="http, cli, facade or task")
    error: dict[str, Any] | None = Field(default=None, description="type, message and status of a failure")


class BatchEvent(EventData):
    """A batch of commands finished, whatever became of each one."""

    total: int = Field(ge=0)
    succeeded: int = Field(ge=0)
    failed: int = Field(ge=0)
    skipped: int = Field(ge=0)
    checkpoint_id: CheckpointId | None = None
    duration_ms: float | None = Field(default=None, ge=0)


class JobEvent(EventData):
    """Asynchronous work (a queued command, batch or suite) started, completed, failed or was cancelled."""

    job_id: str
    kind: str = Field(description="command, batch or suite")
    attempt: int = Field(default=1, ge=1)
    result: dict[str, Any] | None = Field(
        default=None, description="the job's result; a long list in it (a batch's results) is left out"
    )
    error: dict[str, Any] | None = None


class SuiteRunEvent(EventData):
    """A YAML/JSON test suite run started, completed (every step added and executed) or failed."""

    suite_run_id: str
    suite: str = Field(description="the suite's name")
    checkpoint_id: CheckpointId | None = None
    steps: int | None = Field(default=None, ge=0)
    outcome: str | None = None
    error: dict[str, Any] | None = None


class RunStartedEvent(EventData):
    """Virtuoso started an execution this service asked for (a goal, journeys, a journey or a plan's job)."""

    run_id: str
    execution_id: str | None = None
    kind: str = Field(description="goal, journeys, journey or plan")
    goal_id: int | None = None
    journey_ids: list[int] = Field(default_factory=list, max_length=200)
    plan_id: int | None = None
    status: str | None = Field(default=None, description="Virtuoso's status when it answered")
    url: str | None = Field(default=None, description="the run in Virtuoso's UI")


class RunFinishedEvent(EventData):
    """A Virtuoso execution (goal, journey or plan) reached a final state."""

    run_id: str
    execution_id: str | None = None
    outcome: Literal["passed", "failed", "error", "cancelled", "timed_out"]
    passed: int | None = Field(default=None, ge=0)
    failed: int | None = Field(default=None, ge=0)
    duration_ms: float | None = Field(default=None, ge=0)
    url: str | None = Field(default=None, description="the run in Virtuoso's UI")
    status: str | None = Field(default=None, description="Virtuoso's status: FINISHED, CANCELED, FAILED")
    virtuoso_outcome: str | None = Field(default=None, description="Virtuoso's outcome: PASS, FAIL, ...")


class SessionEvent(EventData):
    session_id: str
    checkpoint_id: CheckpointId | None = None
    name: str | None = None
    reason: Literal["deleted"] | None = Field(default=None, description="why it ended")


class ApiKeyEvent(EventData):
    """A key was made or revoked; never the key itself, only its id and prefix."""

    key_id: str
    name: str
    user_id: str
    scopes: list[str] = Field(default_factory=list)
    prefix: str | None = None


class SecretRotatedEvent(EventData):
    """A secret got a new version; never its value."""

    secret: str = Field(description="the secret's name")
    version: str | None = None


class WebhookDeliveryFailedEvent(EventData):
    """A delivery used up every attempt of WEBHOOK_RETRY_SCHEDULE and went to the dead letters."""

    webhook_id: str
    delivery_id: str
    event_id: str
    event_type: str
    attempts: int = Field(ge=1)
    last_status_code: int | None = None
    last_error: str | None = None


class WebhookDisabledEvent(EventData):
    webhook_id: str
    url: str
    reason: str
    dead_deliveries: int = Field(ge=0)


class WebhookTestEvent(EventData):
    webhook_id: str
    message: str = "a test delivery asked for with POST /api/v1/webhooks/{id}/test"


#: The data schema of each type, and its version.
SCHEMAS: Final[dict[EventType, tuple[type[EventData], int]]] = {
    EventType.COMMAND_EXECUTED: (CommandEvent, 1),
    EventType.COMMAND_FAILED: (CommandEvent, 1),
    EventType.BATCH_COMPLETED: (BatchEvent, 1),
    EventType.JOB_STARTED: (JobEvent, 1),
    EventType.JOB_COMPLETED: (JobEvent, 1),
    EventType.JOB_FAILED: (JobEvent, 1),
    EventType.JOB_CANCELLED: (JobEvent, 1),
    EventType.SUITE_RUN_STARTED: (SuiteRunEvent, 1),
    EventType.SUITE_RUN_COMPLETED: (SuiteRunEvent, 1),
    EventType.SUITE_RUN_FAILED: (SuiteRunEvent, 1),
    EventType.RUN_STARTED: (RunStartedEvent, 1),
    EventType.RUN_FINISHED: (RunFinishedEvent, 1),
    EventType.SESSION_CREATED: (SessionEvent, 1),
    EventType.SESSION_ENDED: (SessionEvent, 1),
    EventType.API_KEY_CREATED: (ApiKeyEvent, 1),
    EventType.API_KEY_REVOKED: (ApiKeyEvent, 1),
    EventType.SECRET_ROTATED: (SecretRotatedEvent, 1),
    EventType.WEBHOOK_DELIVERY_FAILED: (WebhookDeliveryFailedEvent, 1),
    EventType.WEBHOOK_DISABLED: (WebhookDisabledEvent, 1),
    EventType.WEBHOOK_TEST: (WebhookTestEvent, 1),
}


def schema_uri(event_type: EventType) -> str:
    """The ``dataschema`` of an event: the type and its schema's version."""
    return f"urn:virtuoso-api:events:{event_type.value}:v{SCHEMAS[event_type][1]}"


def describe_types() -> list[dict[str, Any]]:
    """Every type with its schema's version, description and JSON Schema (``GET /events/types``)."""
    return [
        {
            "type": event_type.value,
            "version": version,
            "dataschema": schema_uri(event_type),
            "description": (model.__doc__ or "").strip().split("\n")[0],
            "schema": model.model_json_schema(),
        }
        for event_type, (model, version) in SCHEMAS.items()
    ]
