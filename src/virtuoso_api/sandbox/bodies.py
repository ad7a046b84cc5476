"""Request bodies the sandbox accepts: camelCase only, unknown fields refused (400), as Virtuoso does.

``POST /teststeps`` is validated with :class:`virtuoso_api.virtuoso.steps.StepCreate` itself.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from virtuoso_api.virtuoso.steps import StepAction, Target


class Body(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=False, extra="forbid")


class ProjectCreate(Body):
    name: str = Field(min_length=1)
    organization_id: int
    description: str | None = None


class DeviceSize(Body):
    width: int = Field(gt=0)
    height: int = Field(gt=0)


class GoalCreate(Body):
    project_id: int
    name: str = Field(min_length=1)
    url: str = Field(min_length=1)
    environment_id: int | None = None
    device_size: DeviceSize | None = None
    create_first_journey: bool = False
    meta: dict[str, Any] = Field(default_factory=dict)


class JourneyCreate(Body):
    goal_id: int
    snapshot_id: int
    name: str = Field(min_length=1)
    title: str | None = None
    archived: bool = False
    draft: bool = True


class JourneyUpdate(Body):
    title: str = Field(min_length=1)


class CheckpointCreate(Body):
    goal_id: int
    snapshot_id: int
    title: str = Field(min_length=1)


class Attach(Body):
    checkpoint_id: int | None = None
    library_checkpoint_id: int | None = None
    position: int

    @model_validator(mode="after")
    def _one_checkpoint(self) -> Attach:
        if (self.checkpoint_id is None) == (self.library_checkpoint_id is None):
            raise ValueError("give exactly one of checkpointId or libraryCheckpointId")
        return self


class StepProperties(Body):
    id: int
    canonical_id: str
    action: StepAction
    value: str = ""
    variable: str | None = None
    meta: dict[str, Any] = Field(default_factory=dict)
    target: Target | None = None
    optional: bool = False
    ignore_outcome: bool = False
    skip: bool = False


class Execute(Body):
    goal_id: int
    snapshot_id: int


class LibraryUpdate(Body):
    name: str = Field(min_length=1)


class Move(Body):
    position: int


class EnvironmentCreate(Body):
    name: str = Field(min_length=1)
    description: str = ""
    variables: dict[str, str] = Field(default_factory=dict)


class TableCreate(Body):
    name: str = Field(min_length=1)
    description: str = ""
    columns: list[str] = Field(min_length=1)


class TableImport(Body):
    table_id: int
    data: list[list[str]] = Field(min_length=1)
    format: Literal["csv"]
