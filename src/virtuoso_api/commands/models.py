"""What ``/api/v1/commands`` takes and answers."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from virtuoso_api.commands.vocabulary import command_names
from virtuoso_api.kit.json_values import JSON_INTEGER, JsonBool
from virtuoso_api.kit.text import Text
from virtuoso_api.virtuoso.ids import MAX_ID, CheckpointId

_COMMAND_NAMES: list[JsonValue] = [*command_names(with_aliases=True)]

#: One argument of a command: any text up to 20000 characters.
Argument = Annotated[Text, Field(max_length=20_000)]


class CommandRequest(BaseModel):
    """One command, as in the seed: ``{"command": "step-navigate", "args": ["to", "https://example.com"]}``.

    The checkpoint is ``checkpoint_id``, else that of ``session_id``, else that of the caller's active
    session. ``position`` (or ``--at N`` in ``args``) inserts at N; without it the step is appended.
    """

    model_config = ConfigDict(extra="forbid")

    # The parser checks the name (and suggests the nearest); the document lists the names it knows.
    command: Text = Field(
        min_length=1,
        max_length=100,
        examples=["step-navigate"],
        json_schema_extra={"enum": _COMMAND_NAMES},
    )
    args: list[Argument] = Field(
        default_factory=list,
        max_length=100,
        examples=[["to", "https://example.com"]],
        description="The command's arguments, as `GET /api/v1/commands` lists them for each command",
    )
    checkpoint_id: CheckpointId | None = Field(default=None, description="456 or cp_456")
    session_id: Text | None = Field(default=None, max_length=200)
    # Bounded as ids are: a job keeps its request, and no store keeps a number past 64 bits.
    position: Annotated[int, Field(ge=1, le=MAX_ID), JSON_INTEGER] | None = Field(
        default=None, description="Insert at this 1-based position"
    )


class StepOutcome(BaseModel):
    """A step added to a checkpoint: the id and position Virtuoso answered."""

    step_id: int
    checkpoint_id: int
    position: int
    action: str
    command: str
    args: list[str]
    session_id: str | None = None
    duration_ms: float


class ManagementOutcome(BaseModel):
    """A management or library command's result object."""

    command: str
    args: list[str]
    result: dict[str, Any]
    duration_ms: float
    created: bool = Field(default=False, description="Whether it created something in Virtuoso")


CommandOutcome = StepOutcome | ManagementOutcome


class BatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    commands: list[CommandRequest] = Field(min_length=1, max_length=200)
    checkpoint_id: CheckpointId | None = Field(default=None, description="For commands that name none")
    stop_on_error: JsonBool = Field(default=True, description="Skip the rest after the first failure")


class BatchItem(BaseModel):
    index: int
    status: str = Field(description="succeeded, failed or skipped")
    status_code: int | None = Field(default=None, description="What this command alone would have answered")
    outcome: StepOutcome | ManagementOutcome | None = None
    error: dict[str, Any] | None = None


class BatchOutcome(BaseModel):
    results: list[BatchItem]
    total: int
    succeeded: int
    failed: int
    skipped: int

    @classmethod
    def of(cls, items: list[BatchItem]) -> BatchOutcome:
        count = {s: sum(1 for i in items if i.status == s) for s in ("succeeded", "failed", "skipped")}
        return cls(results=items, total=len(items), **count)
