"""A suite run (the suites domain's ``SuiteRunResult``, built on another branch) as a
:class:`ReportModel`: one row per step with its line in the suite file, its command with arguments,
added or not and why, and the run's outcome when it was executed.

Typed by the fields it reads (:class:`SuiteRunLike`), so this package does not import ``suites``
(which sits above it); wiring is one call where a suite run is stored::

    await services.reports.publish(suite_report(result))

and ``reports.links(ReportKind.SUITE_RUN, result.run_id)`` for ``GET /api/v1/suites/runs/{id}``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from virtuoso_api.reports.model import Link, Outcome, ReportKind, ReportModel, StepRow, StepStatus, counted
from virtuoso_api.runs.events import outcome_of
from virtuoso_api.runs.models import RunView


class StepLike(Protocol):
    @property
    def line(self) -> int: ...
    @property
    def command(self) -> str: ...
    @property
    def args(self) -> list[str]: ...
    @property
    def section(self) -> str: ...
    @property
    def success(self) -> bool: ...
    @property
    def error(self) -> dict[str, Any] | None: ...


class LinksLike(Protocol):
    @property
    def project(self) -> str | None: ...
    @property
    def run(self) -> str | None: ...


class SuiteRunLike(Protocol):
    """Read-only, so a pydantic model with these fields (and narrower types) fits."""

    @property
    def run_id(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def status(self) -> Any: ...
    @property
    def steps(self) -> Sequence[StepLike]: ...
    @property
    def total_steps(self) -> int: ...
    @property
    def run(self) -> RunView | None: ...
    @property
    def links(self) -> LinksLike: ...
    @property
    def started_at(self) -> datetime: ...
    @property
    def finished_at(self) -> datetime | None: ...


_OUTCOMES = {
    "passed": Outcome.PASSED,
    "failed": Outcome.FAILED,
    "incomplete": Outcome.ERROR,
    "running": Outcome.RUNNING,
}


def suite_report(result: SuiteRunLike) -> ReportModel:
    rows = [
        StepRow(
            group=step.section,
            name=step.command,
            line=step.line,
            command=" ".join([step.command, *step.args]),
            status=StepStatus.PASSED if step.success else StepStatus.ERROR,
            error=None if step.error is None else str(step.error.get("message") or step.error),
        )
        for step in result.steps
    ]
    status = str(getattr(result.status, "value", result.status))
    if result.run is not None and result.run.finished:
        outcome = Outcome(outcome_of(result.run))
    elif status == "added":  # every step added, not executed: nothing failed
        outcome = Outcome.PASSED if len(rows) == result.total_steps else Outcome.ERROR
    else:
        outcome = _OUTCOMES.get(status, Outcome.ERROR)
    links = [
        Link(label=label, url=url)
        for label, url in (("Project", result.links.project), ("Run", result.links.run))
        if url
    ]
    duration = None
    if result.finished_at is not None:
        duration = int((result.finished_at - result.started_at).total_seconds() * 1000)
    return ReportModel(
        kind=ReportKind.SUITE_RUN,
        id=result.run_id,
        title=result.name,
        outcome=outcome,
        status=status,
        counts=counted(rows),
        duration_ms=duration,
        started_at=result.started_at,
        ended_at=result.finished_at,
        source=result.source,
        links=links,
        steps=rows,
    )
