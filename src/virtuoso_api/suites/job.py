"""The ``suite`` job: a suite file run by the task queue (``POST /api/v1/suites/runs``, the facade).

Each delivery of the task parses the suite again (the job keeps its text), takes the result an
earlier attempt stored, and runs it with :class:`~virtuoso_api.suites.runner.SuiteRunner`:

* the placement stored by an earlier attempt is kept (nothing is looked for, created or deleted
  again: the steps that attempt added stay);
* every step goes through ``JobRun.command`` under the index it has in the file, so a step an
  interrupted attempt sent is found (its in-flight record settled against the checkpoint, or its
  history entry) and never sent twice;
* a run whose start may have been sent is looked for before another is started.

"Not now" (Virtuoso or a store unreachable, a step held by another live attempt) raises, and the
task is retried; the last attempt fails the job.
"""

from __future__ import annotations

import asyncio
import logging

from virtuoso_api.commands.models import BatchItem, CommandRequest
from virtuoso_api.history.models import Source
from virtuoso_api.jobs.handlers import JobResult
from virtuoso_api.jobs.models import JobStatus
from virtuoso_api.jobs.runner import JobRun
from virtuoso_api.kit.clock import Clock
from virtuoso_api.reports import ReportService
from virtuoso_api.reports.from_suite import suite_report
from virtuoso_api.runs import RunService, RunView
from virtuoso_api.suites.parser import parse_suite
from virtuoso_api.suites.placement import Lookups, PlacementOptions
from virtuoso_api.suites.problems import SuiteInvalid
from virtuoso_api.suites.requests import SuiteRunRequest
from virtuoso_api.suites.results import SuiteRunResult, SuiteStatus
from virtuoso_api.suites.runner import Observer, RunOptions, SuiteRunner
from virtuoso_api.suites.store import SAVE_EVERY, SuiteRuns
from virtuoso_api.virtuoso import VirtuosoClient

logger = logging.getLogger(__name__)


class _JobSink:
    """Steps through the job (each exactly once in effect); stopped once a cancel is asked, which is
    read from the store before every step, so one from another instance counts too."""

    def __init__(self, run: JobRun) -> None:
        self._run = run
        self.cancelled = False

    async def add(self, index: int, request: CommandRequest) -> BatchItem:
        return await self._run.command(index, request)

    async def stopped(self) -> str | None:
        if not self.cancelled:
            self.cancelled = await self._run.cancelled()
        return "the job was cancelled" if self.cancelled else None

    async def earlier(self, index: int, request: CommandRequest) -> BatchItem | None:
        if self._run.job.attempts <= 1:
            return None  # the first attempt: there is no earlier one
        return await self._run.earlier(index, request)


class _JobObserver(Observer):
    def __init__(self, run: JobRun, runs: SuiteRuns, reports: ReportService | None) -> None:
        self._run = run
        self._runs = runs
        self._reports = reports

    async def changed(self, result: SuiteRunResult, what: str) -> None:
        if what == "step":
            await self._run.advance()
            if len(result.steps) % SAVE_EVERY:
                return
        await self._runs.save(result)
        if what == "finished" and self._reports is not None:
            # After the result is saved; a report that cannot be written now waits in the outbox, and
            # one that fails otherwise never fails the suite run (a retried job writes it again).
            try:
                await self._reports.publish(suite_report(result))
            except Exception:
                logger.exception("the report of suite run %s could not be written", result.run_id)

    def run_update(self, result: SuiteRunResult, view: RunView) -> None:
        result.run = view  # saved with the end


class SuiteJob:
    def __init__(
        self,
        *,
        virtuoso: VirtuosoClient,
        runs: RunService,
        stored: SuiteRuns,
        clock: Clock,
        default_project: str,
        reports: ReportService | None = None,
    ) -> None:
        self._reports = reports
        self._virtuoso = virtuoso
        self._runs = runs
        self._stored = stored
        self._clock = clock
        self._default_project = default_project

    async def run(self, run: JobRun) -> JobResult:
        request = SuiteRunRequest.model_validate(run.job.request)
        try:
            suite = await asyncio.to_thread(
                parse_suite,
                request.suite,
                source=request.filename or "suite",
                syntax=request.syntax,
                variables=request.variables,
            )
        except SuiteInvalid as exc:  # checked at submission; a parser that changed since refuses it
            return JobResult(JobStatus.FAILED, error={"type": exc.error_type, "message": exc.message})
        runner = SuiteRunner(
            lookups=Lookups(self._virtuoso),
            runs=self._runs,
            clock=self._clock,
            caller=run.principal,
            source=Source.TASK,
        )
        options = RunOptions(
            execute=request.execute,
            continue_on_error=request.continue_on_error,
            placement=PlacementOptions(
                project=request.project,
                checkpoint_id=request.checkpoint_id,
                default_project=self._default_project,
            ),
            raise_unavailable=True,
        )
        result = await self._stored.get(run.job.job_id) or runner.new_result(suite, run.job.job_id, options)
        sink = _JobSink(run)
        result = await runner.run(
            suite, result, options, sink, _JobObserver(run, self._stored, self._reports)
        )
        summary = {
            "status": result.status.value,
            "steps_added": result.added,
            "total_steps": result.total_steps,
            "execution_id": result.execution_id,
            "location": f"/api/v1/suites/runs/{run.job.job_id}",
        }
        if sink.cancelled:  # stopped by a cancel: nothing was sent to Virtuoso after it was read
            return JobResult(JobStatus.CANCELLED, result=summary, error=result.error)
        if result.status in (SuiteStatus.ADDED, SuiteStatus.PASSED):
            return JobResult(JobStatus.SUCCEEDED, result=summary)
        return JobResult(JobStatus.FAILED, result=summary, error=_why(result))


def _why(result: SuiteRunResult) -> dict[str, object]:
    if result.status is SuiteStatus.FAILED and result.run is not None:
        run = result.run
        return {"type": "tests_failed", "message": f"run {run.execution_id}: outcome {run.outcome}"}
    failed = next(
        (s for s in result.steps if not s.success and (s.error or {}).get("type") != "skipped"), None
    )
    if failed is not None:
        reason = (failed.error or {}).get("message", "failed")
        where = f"{result.source}:{failed.line}: {failed.command}"
        return {"type": "step_failed", "message": f"{where}: {reason}"}
    if result.error is not None:
        return result.error
    return {"type": "incomplete", "message": "the suite did not complete"}
