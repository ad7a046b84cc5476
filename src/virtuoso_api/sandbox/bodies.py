"""Request bodies the sandbox accepts: camelCase, bad values refused (400), unknown fields accepted.

Unknown fields are ignored, not refused: the evidence (``reference/virtuoso-evidence.md``) shows real
clients sending fields the original system never listed (``tags``, ``suiteIds``, ``environmentId``),
and nothing shows Virtuoso refusing extra fields, so a sandbox that did would claim a certainty the
evidence lacks. Values are still checked: an unknown step action, a selector that names no kind, a
GUESS clue that is not JSON, ids and positions out of range.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from virtuoso_api.virtuoso.steps import StepAction


class Body(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=False, extra="ignore")


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


class SelectorBody(Body):
    """A selector of any type (XPATH, ID, CSS_SELECTOR, GUESS, ...) or ``kind: AI``. A GUESS (or AI)
    value is the clue as a JSON object with a ``clue`` string."""

    model_config = ConfigDict(extra="allow")

    type: str | None = None
    kind: str | None = None
    value: str

    @model_validator(mode="after")
    def _kind_and_clue(self) -> SelectorBody:
        if not self.type and not self.kind:
            raise ValueError("a selector needs a type (GUESS, XPATH, ID, CSS_SELECTOR, ...) or a kind")
        if self.type == "GUESS" or self.kind == "AI":
            try:
                clue = json.loads(self.value)
            except ValueError as exc:
                raise ValueError(f"selector value is not a valid clue JSON: {exc}") from exc
            if not isinstance(clue, dict) or not isinstance(clue.get("clue"), str):
                raise ValueError('selector value is not a valid clue JSON: it needs a "clue" string')
        return self


class TargetBody(Body):
    model_config = ConfigDict(extra="allow")

    selectors: list[SelectorBody] = Field(min_length=1)


class ParsedStepBody(Body):
    action: StepAction
    target: TargetBody | None = None
    value: str = ""
    variable: str | None = None
    meta: dict[str, Any] = Field(default_factory=dict)

    def stored(self) -> dict[str, Any]:
        """What the sandbox keeps: the parsed step as JSON, the target with every field it was sent."""
        return {
            "action": self.action.value,
            "value": self.value,
            "variable": self.variable,
            "meta": self.meta,
            "target": None
            if self.target is None
            else self.target.model_dump(by_alias=True, exclude_none=True),
        }


class StepCreate(Body):
    """``POST /teststeps`` (field names UNVERIFIED: the original system's; ``stepIndex`` is 1-based)."""

    checkpoint_id: int
    step_index: int = Field(ge=1)
    parsed_step: ParsedStepBody


class ElementBody(Body):
    model_config = ConfigDict(extra="allow")

    target: TargetBody | None = None


class StepProperties(Body):
    """``PUT /teststeps/{id}/properties``: the step as read back (``element.target``) or as created
    (``target``), with its flags (UNVERIFIED: the original system's field names)."""

    id: int
    canonical_id: str
    action: StepAction
    value: str = ""
    variable: str | None = None
    meta: dict[str, Any] = Field(default_factory=dict)
    target: TargetBody | None = None
    element: ElementBody | None = None
    optional: bool = False
    ignore_outcome: bool = False
    skip: bool = False

    def parsed(self) -> dict[str, Any]:
        target = self.target or (self.element.target if self.element else None)
        return ParsedStepBody(
            action=self.action, target=target, value=self.value, variable=self.variable, meta=self.meta
        ).stored()


class RunGoal(Body):
    """``POST /goals/{id}/snapshots/{s}/execute`` (SpotQA's client sends ``tags`` and ``suiteIds``)."""

    suite_ids: list[int] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    environment_id: int | None = None


class RunPlan(Body):
    environment_id: int | None = None


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
