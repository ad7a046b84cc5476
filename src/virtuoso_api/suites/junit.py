"""JUnit XML for suite runs: one test case per suite file, then the runs' own (one per journey of
the run, and one per step its report has: ``runs/junit.py``). A file whose job was cancelled is an
error saying so (before which line, how many steps went in), and its journey, when it was to be
executed and never was, a skipped case: CI sees what did not run rather than nothing."""

from __future__ import annotations

from collections.abc import Sequence

from virtuoso_api.runs import RunService
from virtuoso_api.runs.junit import JunitCase
from virtuoso_api.suites.results import STOPPED, SuiteRunResult, SuiteStatus

#: The name of the test suite of file cases (one per suite file), first in every report.
SUITE_CASES = "Virtuoso API suites"

_OUTCOME = {
    SuiteStatus.ADDED: "PASS",
    SuiteStatus.PASSED: "PASS",
    SuiteStatus.FAILED: "FAIL",
    SuiteStatus.INCOMPLETE: "ERROR",
    SuiteStatus.RUNNING: None,
}


def file_case(result: SuiteRunResult) -> JunitCase:
    seconds = None
    if result.finished_at is not None:
        seconds = (result.finished_at - result.started_at).total_seconds()
    return JunitCase(
        classname=result.source,
        name=result.name,
        outcome=_OUTCOME[result.status],
        seconds=seconds,
        message=_message(result),
    )


def _message(result: SuiteRunResult) -> str | None:
    if result.status in (SuiteStatus.ADDED, SuiteStatus.PASSED):
        return None
    if result.status is SuiteStatus.RUNNING:
        return "the suite had not finished when the report was written"
    if result.stopped:
        return str((result.error or {}).get("message", "cancelled"))
    failed = next((step for step in result.steps if not step.success), None)
    if failed is not None and (failed.error or {}).get("type") != "skipped":
        reason = (failed.error or {}).get("message", "failed")
        return f"{result.source}:{failed.line}: {failed.command}: {reason}"
    if result.error is not None:
        return str(result.error.get("message", result.error.get("type", "failed")))
    if result.run is not None:
        return f"run {result.run.execution_id}: status {result.run.status}, outcome {result.run.outcome}"
    return f"{result.added} of {result.total_steps} steps added"


def _not_run(result: SuiteRunResult) -> JunitCase | None:
    """The journey a stopped suite was to execute and never started, as a skipped case (named as
    a run's journey case is)."""
    if not (result.stopped and result.execute and result.execution_id is None):
        return None
    return JunitCase(
        classname="Virtuoso", name=result.name, outcome=None, message=f"not run: the job was {STOPPED}"
    )


async def suite_junit(runs: RunService, results: Sequence[SuiteRunResult]) -> str:
    views = [result.run for result in results if result.run is not None]
    cases = [file_case(result) for result in results]
    cases += [case for case in map(_not_run, results) if case is not None]
    return await runs.junit(views, cases=cases, cases_name=SUITE_CASES)
