"""What a dry run prints and ``POST /api/v1/suites/validate`` answers: the commands a file becomes."""

from __future__ import annotations

from pydantic import BaseModel, Field

from virtuoso_api.suites.model import Dialect, Suite
from virtuoso_api.suites.problems import Problem


class PlanStep(BaseModel):
    line: int = Field(description="The line of the step in the file")
    command: str = Field(examples=["step-interact"])
    args: list[str] = Field(examples=[["click", "Add to Bag"]])


class Finding(BaseModel):
    """A warning: where, and which rule was applied (the step is kept)."""

    line: int | None
    field: str = Field(description="The field's path in the file, e.g. `steps[9].wait`")
    message: str

    @classmethod
    def of(cls, problem: Problem) -> Finding:
        return cls(line=problem.line, field=problem.field, message=problem.message)


class SuitePlan(BaseModel):
    """The suite as it would run: every step as a command of the vocabulary, with its line."""

    name: str
    dialect: Dialect
    steps: list[PlanStep]
    warnings: list[Finding]

    @classmethod
    def of(cls, suite: Suite) -> SuitePlan:
        return cls(
            name=suite.name,
            dialect=suite.dialect,
            steps=[PlanStep(line=s.line, command=s.command, args=list(s.args)) for s in suite.steps],
            warnings=[Finding.of(warning) for warning in suite.warnings],
        )
