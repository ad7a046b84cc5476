"""What a suite run produced, kept as it is stored and answered: plain pydantic models.

One :class:`SuiteRunResult` per suite file run: where its steps went (project, goal, journey,
checkpoints, with UI links where the Virtuoso UI is known), each step (its line, command, position,
step id, success or error), and the run's outcome when it was executed. The CLI prints it, the job
stores it (``suite_runs``), the HTTP routes answer it, and reports are rendered from it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from virtuoso_api.kit.timestamps import UtcDatetime
from virtuoso_api.runs import RunView, Verdict

#: The documents collection of stored suite runs, keyed by the run's id (its job's id over HTTP).
COLLECTION = "suite_runs"
#: The error type of a run (and of each step not added) that stopped because its job was cancelled.
STOPPED = "cancelled"


class SuiteStatus(StrEnum):
    """Where a suite run stands; each maps to one exit code of ``suite run`` (as for ``runs``)."""

    RUNNING = "running"  # steps being added, or the run not ended yet
    ADDED = "added"  # every step is in Virtuoso; not executed (no --execute)
    PASSED = "passed"  # executed: FINISHED with outcome PASS
    FAILED = "failed"  # executed: the tests failed (FINISHED, FAIL or ERROR)
    INCOMPLETE = "incomplete"  # a step could not be added, or the run did not complete

    @property
    def finished(self) -> bool:
        return self is not SuiteStatus.RUNNING


class PlacedCheckpoint(BaseModel):
    """One checkpoint of the suite: which section's steps it holds and whether it was made now."""

    section: str = Field(description="setup, steps (do) or teardown; `checkpoint` for --checkpoint")
    title: str
    checkpoint_id: int
    created: bool = Field(description="Made by this run (else found by its title in the journey)")
    #: The steps it already held, when they are exactly the suite's: kept as they are, nothing added.
    unchanged: bool = False
    #: Their ids, in order (set when ``unchanged``).
    kept_step_ids: list[int] = Field(default_factory=list)
    #: Steps of an earlier run of this file deleted before this run's were added (see placement.py).
    replaced_steps: int = 0


class Placement(BaseModel):
    """Where the suite's steps go, found by name or created; stored before any step is added, so a
    resumed job does not look again (nor delete what it added itself)."""

    project_id: int | None
    goal_id: int | None
    snapshot_id: int | None
    journey_id: int | None
    checkpoints: list[PlacedCheckpoint]
    created: list[str] = Field(
        default_factory=list, description="What this run created: project, goal, journey"
    )
    appended: bool = Field(
        default=False, description="Steps appended to an existing checkpoint (--checkpoint)"
    )


class StepResult(BaseModel):
    line: int = Field(description="The step's line in the file")
    command: str
    args: list[str]
    section: str
    checkpoint_id: int | None
    position: int | None = Field(description="1-based, in its checkpoint")
    step_id: int | None
    success: bool
    error: dict[str, Any] | None = None


class SuiteLinks(BaseModel):
    project: str | None = None
    run: str | None = None


class SuiteRunResult(BaseModel):
    """One suite file run: stored, answered, printed; ``cli_json`` is the CLI's ``--json`` shape."""

    run_id: str
    source: str = Field(description="The file's name")
    name: str = Field(description="The suite's name (the journey's)")
    dialect: str
    status: SuiteStatus = SuiteStatus.RUNNING
    execute: bool
    placement: Placement | None = None
    steps: list[StepResult] = Field(default_factory=list)
    total_steps: int
    #: Set once the start request may have been sent: a resumed job looks for that run before
    #: starting another (Virtuoso's start is never repeated blindly).
    run_requested: bool = False
    execution_id: int | None = None
    run: RunView | None = None
    links: SuiteLinks = Field(default_factory=SuiteLinks)
    error: dict[str, Any] | None = None
    warnings: list[str] = Field(default_factory=list)
    started_at: UtcDatetime
    finished_at: UtcDatetime | None = None

    @property
    def added(self) -> int:
        return sum(1 for step in self.steps if step.success)

    @property
    def stopped(self) -> bool:
        """Stopped before its end because its job was cancelled (``error`` says where)."""
        return (self.error or {}).get("type") == STOPPED

    @property
    def failed_steps(self) -> list[StepResult]:
        return [step for step in self.steps if not step.success]

    def decide(self) -> SuiteStatus:
        """The status from what happened: a failed run is FAILED (a definite answer CI must see);
        otherwise a step that was not added, or a run that did not complete, is INCOMPLETE."""
        steps_ok = self.error is None and not self.failed_steps and len(self.steps) == self.total_steps
        if self.run is not None:
            verdict = {
                Verdict.PASSED: SuiteStatus.PASSED,
                Verdict.FAILED: SuiteStatus.FAILED,
                Verdict.INCOMPLETE: SuiteStatus.INCOMPLETE,
                Verdict.RUNNING: SuiteStatus.INCOMPLETE,
            }[self.run.verdict]
            return verdict if steps_ok or verdict is SuiteStatus.FAILED else SuiteStatus.INCOMPLETE
        if not steps_ok or self.execute:
            return SuiteStatus.INCOMPLETE
        return SuiteStatus.ADDED

    def cli_json(self) -> dict[str, Any]:
        """Exactly what ``suite run --json`` prints for one file (the issue's shape)."""
        placement = self.placement
        return {
            "project_id": placement.project_id if placement else None,
            "goal_id": placement.goal_id if placement else None,
            "journey_id": placement.journey_id if placement else None,
            "checkpoint_ids": [c.checkpoint_id for c in placement.checkpoints] if placement else [],
            "steps": [
                step.model_dump(
                    mode="json", include={"line", "command", "position", "step_id", "success", "error"}
                )
                for step in self.steps
            ],
            "run": self.run.model_dump(mode="json") if self.run is not None else None,
        }
