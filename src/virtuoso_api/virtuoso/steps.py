"""The shape of a Virtuoso test step, as ``POST /teststeps`` takes it (original-system.md §1.3).

This is the contract between the command vocabulary (which builds a :class:`ParsedStep` per command),
the client (which sends it) and the sandbox (which validates it as Virtuoso would). The element hint
travels as a JSON *string* inside ``target.selectors[0].value``; it is always made by
:meth:`Clue.to_json`, so quotes and backslashes in a selector still give valid JSON (the original
formatted it by hand and broke on them).
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class StepAction(StrEnum):
    NAVIGATE = "NAVIGATE"
    CLICK = "CLICK"
    WRITE = "WRITE"
    KEY = "KEY"
    MOUSE = "MOUSE"
    PICK = "PICK"
    SCROLL = "SCROLL"
    WAIT = "WAIT"
    WINDOW = "WINDOW"
    SWITCH = "SWITCH"
    STORE = "STORE"
    ENVIRONMENT = "ENVIRONMENT"
    DISMISS = "DISMISS"
    UPLOAD = "UPLOAD"
    COMMENT = "COMMENT"
    EXECUTE = "EXECUTE"
    ASSERT_EXISTS = "ASSERT_EXISTS"
    ASSERT_NOT_EXISTS = "ASSERT_NOT_EXISTS"
    ASSERT_EQUALS = "ASSERT_EQUALS"
    ASSERT_NOT_EQUALS = "ASSERT_NOT_EQUALS"
    ASSERT_CHECKED = "ASSERT_CHECKED"
    ASSERT_SELECTED = "ASSERT_SELECTED"
    ASSERT_GREATER_THAN = "ASSERT_GREATER_THAN"
    ASSERT_GREATER_THAN_OR_EQUAL = "ASSERT_GREATER_THAN_OR_EQUAL"
    ASSERT_LESS_THAN = "ASSERT_LESS_THAN"
    ASSERT_LESS_THAN_OR_EQUAL = "ASSERT_LESS_THAN_OR_EQUAL"
    ASSERT_MATCHES = "ASSERT_MATCHES"
    ASSERT_VARIABLE = "ASSERT_VARIABLE"


class ElementPosition(StrEnum):
    """Where on an element a click lands (``--position`` of ``step-interact click``)."""

    TOP_LEFT = "TOP_LEFT"
    TOP_CENTER = "TOP_CENTER"
    TOP_RIGHT = "TOP_RIGHT"
    CENTER_LEFT = "CENTER_LEFT"
    CENTER = "CENTER"
    CENTER_RIGHT = "CENTER_RIGHT"
    BOTTOM_LEFT = "BOTTOM_LEFT"
    BOTTOM_CENTER = "BOTTOM_CENTER"
    BOTTOM_RIGHT = "BOTTOM_RIGHT"


class Clue(BaseModel):
    """The element hint Virtuoso resolves by guessing: text, CSS, ``text=...``, or a variable."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    clue: str
    variable: str | None = None
    position: ElementPosition | None = None
    element_type: str | None = Field(default=None, alias="elementType")

    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json", by_alias=True, exclude_none=True), ensure_ascii=False)


class Selector(BaseModel):
    """One selector. ``type: GUESS`` is the usual form; ``kind: AI`` asks for AI element finding."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["GUESS"] | None = None
    kind: Literal["AI"] | None = None
    value: str

    @model_validator(mode="after")
    def _one_kind(self) -> Selector:
        if (self.type is None) == (self.kind is None):
            raise ValueError("a selector has exactly one of type=GUESS or kind=AI")
        try:
            Clue.model_validate_json(self.value)
        except ValueError as exc:
            raise ValueError(f"selector value is not a valid clue JSON: {exc}") from exc
        return self


class Target(BaseModel):
    model_config = ConfigDict(extra="forbid")

    selectors: list[Selector] = Field(min_length=1, max_length=1)

    @classmethod
    def guess(cls, clue: Clue, *, ai: bool = False) -> Target:
        text = clue.to_json()
        return cls(selectors=[Selector(kind="AI", value=text) if ai else Selector(type="GUESS", value=text)])

    def clue(self) -> Clue:
        return Clue.model_validate_json(self.selectors[0].value)


class ParsedStep(BaseModel):
    """The ``parsedStep`` object of a step-creation request."""

    model_config = ConfigDict(extra="forbid")

    action: StepAction
    target: Target | None = None
    value: str = ""
    variable: str | None = None
    meta: dict[str, Any] = Field(default_factory=dict)

    def to_payload(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


class StepCreate(BaseModel):
    """Body of ``POST /teststeps``: which checkpoint, at which 1-based index, what step."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    checkpoint_id: int = Field(alias="checkpointId", gt=0)
    step_index: int = Field(alias="stepIndex", ge=1)
    parsed_step: ParsedStep = Field(alias="parsedStep")

    def to_payload(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)
