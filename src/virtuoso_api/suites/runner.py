"""Running one parsed suite: place it, add its steps in order, execute the journey, keep the result.

The same runner serves the CLI (steps through :class:`DirectSink`: ``CommandService.execute``) and
the ``suite`` job (steps through the job's ``JobRun.command``: each step exactly once in effect,
however often the task is delivered). Every step is a command of the vocabulary with the checkpoint
named, so it goes through the one payload builder, the checkpoint's turn, the in-flight record and
history like any command.

A resumed job passes the result it stored: the placement is not looked for again (nor the steps of
an earlier run deleted again), and a run whose start may have been sent is looked for among the
runs this job started (by the job id they carry as correlation id) before another is started.

A sink may be told to stop (the job was cancelled): it is asked before the placement, before each
step it would add, before the run is started and, while the run is followed, every
:data:`STOP_CHECK_SECONDS`. Once it says so nothing more is sent to Virtuoso: the steps not added are
kept in the result with the reason, and the result's error names the first line not added, how many
steps went in and whether the journey ran. A run already started is not stopped (Virtuoso's API has
no call for that here): it is no longer followed, and the result says it goes on. Steps an earlier
attempt made before the cancel are found as made (``StepSink.earlier``), never sent again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Protocol

from virtuoso_api.api_keys.models import Principal
from virtuoso_api.commands.models import BatchItem, CommandRequest, StepOutcome
from virtuoso_api.commands.service import CommandService, error_of
from virtuoso_api.errors import BackendUnavailable, VirtuosoApiError
from virtuoso_api.history.models import Source
from virtuoso_api.kit.clock import Clock
from virtuoso_api.runs import RunRequest, RunService, RunView
from virtuoso_api.suites.model import Section, Suite
from virtuoso_api.suites.placement import Lookups, PlacementOptions, Placer
from virtuoso_api.suites.results import STOPPED, PlacedCheckpoint, StepResult, SuiteRunResult
from virtuoso_api.virtuoso.errors import VirtuosoNotConfigured

logger = logging.getLogger(__name__)

_SKIPPED = {"type": "skipped", "message": "not added: an earlier step failed (see continue_on_error)"}
#: How often a run being followed asks its sink whether to stop (a cancelled job stops following).
STOP_CHECK_SECONDS = 1.0


class StepSink(Protocol):
    async def add(self, index: int, request: CommandRequest) -> BatchItem: ...

    async def stopped(self) -> str | None:
        """Why nothing more may be sent (e.g. "the job was cancelled"), or ``None`` to go on."""
        ...

    async def earlier(self, index: int, request: CommandRequest) -> BatchItem | None:
        """Step ``index`` as an earlier attempt made it, never sending it; ``None`` if it did not."""
        ...


class Observer:
    """What a caller follows: the CLI draws progress, the job stores the result. No-ops here."""

    async def changed(self, result: SuiteRunResult, what: str) -> None:
        """``what``: placed, step, run-requested, run-started, finished."""

    def run_update(self, result: SuiteRunResult, view: RunView) -> None:
        """A new status of the executing run (from the shared poll loop)."""


class DirectSink:
    """Steps through the command service, one after the other (the CLI, the benchmark)."""

    def __init__(self, commands: CommandService, caller: Principal, source: Source = Source.CLI) -> None:
        self._commands = commands
        self._caller = caller
        self._source = source

    async def add(self, index: int, request: CommandRequest) -> BatchItem:
        try:
            outcome = await self._commands.execute(self._caller, request, source=self._source)
        except VirtuosoApiError as exc:
            return BatchItem(index=index, status="failed", error=error_of(exc))
        return BatchItem(index=index, status="succeeded", outcome=outcome)

    async def stopped(self) -> str | None:
        return None  # the CLI is stopped by its user (Ctrl-C), not asked

    async def earlier(self, index: int, request: CommandRequest) -> BatchItem | None:  # noqa: ARG002 - the port's
        return None  # one attempt only


@dataclass(frozen=True, slots=True)
class RunOptions:
    execute: bool = False
    #: ``None``: the file's ``config.continue_on_error`` (default: stop at the first failed step).
    continue_on_error: bool | None = None
    placement: PlacementOptions = field(default_factory=PlacementOptions)
    #: Raise "not now" errors (a job retries its task) instead of ending the suite incomplete.
    raise_unavailable: bool = False
    wait_timeout: float | None = None


class SuiteRunner:
    def __init__(
        self, *, lookups: Lookups, runs: RunService, clock: Clock, caller: Principal, source: Source
    ) -> None:
        self._lookups = lookups
        self._runs = runs
        self._clock = clock
        self._caller = caller
        self._source = source

    def new_result(self, suite: Suite, run_id: str, options: RunOptions) -> SuiteRunResult:
        return SuiteRunResult(
            run_id=run_id,
            source=suite.source,
            name=suite.name,
            dialect=suite.dialect.value,
            execute=options.execute,
            total_steps=len(suite.steps),
            warnings=[warning.located(suite.source) for warning in suite.warnings],
            started_at=self._clock.now(),
        )

    async def run(
        self,
        suite: Suite,
        result: SuiteRunResult,
        options: RunOptions,
        sink: StepSink,
        observer: Observer | None = None,
    ) -> SuiteRunResult:
        """Run ``suite`` into ``result`` (new, or stored by an earlier attempt) and answer it."""
        observer = observer or Observer()
        try:
            if result.placement is None:
                if (why := await sink.stopped()) is not None:
                    result.error = {"type": STOPPED, "message": f"{why} before anything was placed"}
                    return await self._finished(result, observer)
                result.placement = await Placer(self._lookups, options.placement).place(suite)
                if self._runs.ui_base and result.placement.project_id is not None:
                    result.links.project = f"{self._runs.ui_base}/#/project/{result.placement.project_id}"
                await observer.changed(result, "placed")
            continue_on_error = options.continue_on_error
            if continue_on_error is None:
                continue_on_error = suite.config.continue_on_error
            added_all = await self._steps(suite, result, sink, observer, continue_on_error=continue_on_error)
            if not result.stopped and options.execute and (added_all or continue_on_error):
                await self._execute(result, options, observer, sink)
        except VirtuosoNotConfigured:
            raise  # no file can run: the caller says what to set (the CLI exits 2)
        except VirtuosoApiError as exc:
            if isinstance(exc, BackendUnavailable) and options.raise_unavailable:
                raise
            result.error = error_of(exc)
        return await self._finished(result, observer)

    async def _finished(self, result: SuiteRunResult, observer: Observer) -> SuiteRunResult:
        result.status = result.decide()
        result.finished_at = self._clock.now()
        await observer.changed(result, "finished")
        return result

    async def _steps(
        self,
        suite: Suite,
        result: SuiteRunResult,
        sink: StepSink,
        observer: Observer,
        *,
        continue_on_error: bool,
    ) -> bool:
        assert result.placement is not None
        result.steps = []
        stopped = False
        #: The error of every step not added since the sink said stop (none of them is told to the
        #: observer: they are not progress).
        halted: dict[str, str] | None = None
        reason, looking = "", True
        index = 0
        for section, placed in _targets(suite, result.placement.checkpoints):
            for number, step in enumerate(section.steps):
                base = StepResult(
                    line=step.line,
                    command=step.command,
                    args=list(step.args),
                    section=section.name,
                    checkpoint_id=placed.checkpoint_id,
                    position=None,
                    step_id=None,
                    success=False,
                )
                if placed.unchanged:
                    kept = placed.kept_step_ids[number]
                    base = base.model_copy(update={"position": number + 1, "step_id": kept, "success": True})
                elif stopped:
                    base = base.model_copy(update={"error": _SKIPPED})
                else:
                    request = CommandRequest(
                        command=step.command, args=list(step.args), checkpoint_id=placed.checkpoint_id
                    )
                    if halted is None and (why := await sink.stopped()) is not None:
                        halted, reason = {"type": STOPPED, "message": f"not added: {why}"}, why
                    if halted is None:
                        item = await sink.add(index, request)
                    else:
                        # Steps an earlier attempt made before the cancel are still the run's (it
                        # made them in order: the first it did not make ends the looking).
                        found = await sink.earlier(index, request) if looking else None
                        looking = found is not None
                        if found is None:
                            base = base.model_copy(update={"error": halted})
                            result.steps.append(base)
                            index += 1
                            continue
                        item = found
                    outcome = item.outcome if isinstance(item.outcome, StepOutcome) else None
                    succeeded = item.status == "succeeded"
                    base = base.model_copy(
                        update={
                            "position": outcome.position if outcome else None,
                            "step_id": outcome.step_id if outcome else None,
                            "success": succeeded,
                            "error": None if succeeded else (item.error or _SKIPPED),
                        }
                    )
                    if not succeeded and (not continue_on_error or item.status == "skipped"):
                        stopped = halted is None
                result.steps.append(base)
                index += 1
                await observer.changed(result, "step")
        if halted is not None:
            result.error = {"type": STOPPED, "message": _stopped_message(reason, result)}
        return not result.failed_steps

    async def _execute(
        self, result: SuiteRunResult, options: RunOptions, observer: Observer, sink: StepSink
    ) -> None:
        placement = result.placement
        assert placement is not None
        if placement.journey_id is None:
            checkpoint = placement.checkpoints[0].checkpoint_id
            result.error = {
                "type": "validation_error",
                "message": f"checkpoint {checkpoint} is in no journey of its goal: nothing to execute",
            }
            return
        if result.execution_id is None and result.run_requested:
            result.execution_id = await self._started_earlier(result)
        if result.execution_id is None:
            if (why := await sink.stopped()) is not None:
                result.error = {"type": STOPPED, "message": _stopped_message(why, result)}
                return
            result.run_requested = True
            await observer.changed(result, "run-requested")
            started = await self._runs.start(
                self._caller, RunRequest(journey_id=placement.journey_id), source=self._source
            )
            if not started.execution_ids:
                note = started.runs[0].note if started.runs else None
                result.error = {"type": "no_execution_id", "message": note or "Virtuoso named no run"}
                return
            result.execution_id = started.execution_ids[0]
            await observer.changed(result, "run-started")

        view = await self._follow(result.execution_id, result, options, observer, sink)
        if view is not None:
            result.run = view
            result.links.run = view.ui_url

    async def _follow(
        self,
        execution_id: int,
        result: SuiteRunResult,
        options: RunOptions,
        observer: Observer,
        sink: StepSink,
    ) -> RunView | None:
        """The run once it ended, or ``None`` if the sink said stop first (asked every
        :data:`STOP_CHECK_SECONDS` while the shared poll loop reads the run): the run goes on in
        Virtuoso, which this service cannot stop, and the result says so."""

        def update(view: RunView) -> None:
            observer.run_update(result, view)

        waiting = asyncio.ensure_future(
            self._runs.wait(execution_id, timeout=options.wait_timeout, on_update=update)
        )
        try:
            while True:
                # Real seconds, not the service's clock: how often to look, never a measurement.
                done, _ = await asyncio.wait({waiting}, timeout=STOP_CHECK_SECONDS)
                if done:
                    return waiting.result()
                if (why := await sink.stopped()) is not None:
                    result.error = {"type": STOPPED, "message": _stopped_message(why, result)}
                    return None
        finally:
            if not waiting.done():
                waiting.cancel()  # this waiter leaves; the poll loop stops if it was the last
                with contextlib.suppress(asyncio.CancelledError):
                    await waiting

    async def _started_earlier(self, result: SuiteRunResult) -> int | None:
        """The run an earlier attempt of this job started (its record carries the job's id)."""
        assert result.placement is not None
        owner, goal_id = self._caller.user_id, result.placement.goal_id
        page = await self._runs.list(user_id=owner, goal_id=goal_id, limit=100)
        for record in page.runs:
            if record.correlation_id == result.run_id and result.placement.journey_id in record.journey_ids:
                logger.info("suite run %s: found run %s started earlier", result.run_id, record.execution_id)
                return record.execution_id
        return None


def _stopped_message(why: str, result: SuiteRunResult) -> str:
    """What a stopped run says: before which line, how many steps went in, whether the journey ran."""
    first = next((step for step in result.steps if (step.error or {}).get("type") == STOPPED), None)
    counts = f"{result.added} of {result.total_steps} steps added"
    if first is not None:
        ran = "; the journey was not run" if result.execute else ""
        return f"{why} before line {first.line} ({first.command}): {counts}{ran}"
    if result.execution_id is None:
        return f"{why} before the run: {counts}; the journey was not run"
    return (
        f"{why} while run {result.execution_id} was executing: {counts}; it goes on in Virtuoso, not followed"
    )


def _targets(suite: Suite, placed: list[PlacedCheckpoint]) -> list[tuple[Section, PlacedCheckpoint]]:
    """Each section with steps and its checkpoint (all into one when appending to --checkpoint)."""
    sections = [section for section in suite.sections if section.steps]
    if len(placed) == 1 and placed[0].section == "checkpoint":
        return [(section, placed[0]) for section in sections]
    return list(zip(sections, placed, strict=True))
