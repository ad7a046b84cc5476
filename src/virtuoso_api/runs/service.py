"""Runs: start goals, journeys and plans on Virtuoso, follow them to their outcome, report them.

HTTP, the CLI and the management commands (``execute-goal`` ...) all call :class:`RunService`, so a
run behaves the same wherever it was started. Starting sends one request to Virtuoso and never
repeats it; whatever Virtuoso's answer looks like, a run it started is reported as started (with the
note that its id was not given, if so), never as an error that would invite a second start.
Following shares one poll loop per run (:mod:`watch`). The service answers outcomes, never HTTP
statuses or exit codes: those are decided by the routes and the CLI.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import TypeVar

from virtuoso_api.api_keys.models import Principal
from virtuoso_api.errors import BackendUnavailable, VirtuosoApiError
from virtuoso_api.events import EventPublisher
from virtuoso_api.history.models import Source
from virtuoso_api.infra.documents import DocumentStore, DurableWrites
from virtuoso_api.kit.clock import Clock
from virtuoso_api.kit.correlation import correlation_id
from virtuoso_api.kit.lifecycle import Needs, PeriodicJob
from virtuoso_api.kit.recent import RecentValues
from virtuoso_api.runs.events import RunEvents
from virtuoso_api.runs.junit import JunitCase, JunitRun, junit_xml
from virtuoso_api.runs.models import (
    Kind,
    RunPage,
    RunRecord,
    RunRequest,
    RunView,
    StartedRun,
    StartedRuns,
)
from virtuoso_api.runs.normalise import ui_link, view_of
from virtuoso_api.runs.resolve import resolve_journeys
from virtuoso_api.runs.store import RunLog
from virtuoso_api.runs.watch import PollPolicy, RunWatcher, Sleep
from virtuoso_api.virtuoso import VirtuosoClient, VirtuosoError, VirtuosoUnavailable
from virtuoso_api.virtuoso.executions import Execution, ExecutionReport, PlanExecution

logger = logging.getLogger(__name__)
T = TypeVar("T")

# Goals do not move between projects: a goal's project, once read, is kept.
_FOREVER = timedelta(days=36_500)
_SETTLE_EVERY_SECONDS = 60.0
_SETTLE_BATCH = 20
_NO_ID = (
    "Virtuoso started the run but its answer named no execution id; it was not started again: "
    "find it in Virtuoso before starting another"
)


class RunService:
    def __init__(
        self,
        *,
        virtuoso: VirtuosoClient,
        store: DocumentStore,
        writes: DurableWrites,
        clock: Clock,
        sleep: Sleep,
        policy: PollPolicy,
        ui_base: str | None,
        events: EventPublisher,
    ) -> None:
        self._virtuoso = virtuoso
        self._clock = clock
        self._ui_base = ui_base
        self._log = RunLog(store, writes=writes, clock=clock)
        self._events = RunEvents(events)
        self._projects: RecentValues[int, int] = RecentValues(clock, max_entries=1_000)
        self.watcher = RunWatcher(self._read, clock=clock, sleep=sleep, policy=policy, on_end=self._ended)

    @property
    def ui_base(self) -> str | None:
        """Where links into the Virtuoso UI point (``None``: a Virtuoso whose UI we do not know)."""
        return self._ui_base

    def needs(self) -> Needs:
        job = PeriodicJob("record how runs ended", _SETTLE_EVERY_SECONDS, self.settle)
        return Needs(periodic=(job,), at_shutdown=(self.watcher.close,))

    # -- starting ------------------------------------------------------------------------------
    async def start(self, caller: Principal, request: RunRequest, *, source: Source) -> StartedRuns:
        """Start the run(s) in Virtuoso and record who started what; raises only when nothing was
        started (an unknown goal, journey or plan, a refusal, Virtuoso unreachable before it heard)."""
        kind = request.kind
        snapshot_id = request.snapshot_id
        journey_ids: list[int] = []
        plan: PlanExecution | None = None
        if kind is Kind.GOAL:
            assert request.goal_id is not None
            executions = [await _sent(self._virtuoso.execute_goal(request.goal_id))]
        elif kind is Kind.JOURNEYS:
            assert request.goal_id is not None
            snapshot_id = snapshot_id or await self._virtuoso.first_snapshot_id(request.goal_id)
            journeys = await self._virtuoso.snapshot_journeys(request.goal_id, snapshot_id)
            journey_ids = resolve_journeys(request.journeys, journeys, goal_id=request.goal_id)
            started_one = self._virtuoso.execute_goal_snapshot(
                request.goal_id,
                snapshot_id,
                journey_ids=journey_ids,
                tags=request.tags,
                environment_id=request.environment_id,
            )
            executions = [await _sent(started_one)]
        elif kind is Kind.JOURNEY:
            assert request.journey_id is not None
            journey_ids = [request.journey_id]
            executions = [await _sent(self._virtuoso.execute_journey(request.journey_id))]
        else:
            assert request.plan_id is not None
            plan = await _sent(
                self._virtuoso.execute_plan(request.plan_id, environment_id=request.environment_id)
            )
            executions = [plan.job(job_id) for job_id in plan.job_ids] or [Execution.read({})]
        now = self._clock.now()
        runs = [await self._started_run(execution, request) for execution in executions]
        started = StartedRuns(
            kind=kind,
            execution_ids=[run.execution_id for run in runs if run.execution_id is not None],
            runs=runs,
            goal_id=request.goal_id,
            snapshot_id=snapshot_id,
            journey_ids=journey_ids,
            plan_id=request.plan_id,
            plan_execution_id=plan.id if plan else None,
            started_at=now,
        )
        await self._record(caller, request, started, source)
        for run in started.runs:
            if run.execution_id is not None:
                await self._announce(self._events.started(caller.user_id, started, run))
        return started

    async def _started_run(self, execution: Execution, request: RunRequest) -> StartedRun:
        if execution.id is None:
            return StartedRun(
                execution_id=None, goal_id=request.goal_id, status=execution.status, note=_NO_ID
            )
        goal_id = execution.goal_id or request.goal_id
        project_id = await self._project_of(goal_id)
        return StartedRun(
            execution_id=execution.id,
            goal_id=goal_id,
            status=execution.status,
            ui_url=ui_link(self._ui_base, project_id, execution.id),
        )

    async def _record(
        self, caller: Principal, request: RunRequest, started: StartedRuns, source: Source
    ) -> None:
        records = [
            RunRecord(
                execution_id=run.execution_id,
                kind=started.kind,
                user_id=caller.user_id,
                key_id=caller.key_id,
                source=source,
                goal_id=run.goal_id,
                snapshot_id=started.snapshot_id,
                journey_ids=started.journey_ids,
                plan_id=started.plan_id,
                plan_execution_id=started.plan_execution_id,
                environment_id=request.environment_id,
                tags=list(request.tags),
                project_id=self._projects.get(run.goal_id, max_age=_FOREVER) if run.goal_id else None,
                started_at=started.started_at,
                correlation_id=correlation_id.get(),
                status=run.status,
                checked_at=started.started_at,
            )
            for run in started.runs
            if run.execution_id is not None
        ]
        try:
            await self._log.started(records)
        except Exception:
            # The runs exist: failing the answer now would invite starting them again.
            logger.exception("the record of runs %s could not be written", started.execution_ids)

    # -- following -----------------------------------------------------------------------------
    async def status(self, execution_id: int) -> RunView:
        """The run as Virtuoso answers now (one read)."""
        view = await self._view(await self._read(execution_id, retry=True))
        if view.finished:
            await self._record_end(view)
        return view

    async def wait(
        self,
        execution_id: int,
        *,
        timeout: float | None,
        on_update: Callable[[RunView], None] | None = None,
    ) -> RunView:
        """The run once it ended, or as it is when ``timeout`` seconds have passed (verdict
        ``running``). Callers waiting on one run share one poll loop."""
        if timeout is not None and timeout <= 0:
            return await self.status(execution_id)

        def update(execution: Execution) -> None:
            if on_update is not None:
                on_update(
                    view_of(execution, project_id=self._known_project(execution), ui_base=self._ui_base)
                )

        execution = await self.watcher.wait(execution_id, timeout=timeout, on_update=update)
        if execution is None:
            return await self.status(execution_id)
        return await self._view(execution)

    async def _read(self, execution_id: int, *, retry: bool = False) -> Execution:
        """One status read (by default a single attempt: the poll loop's pause is its retry)."""
        execution = await self._virtuoso.get_execution_status(execution_id, retry=retry)
        if execution.id is None:  # an answer that does not repeat the id is still this run's
            execution.id = execution_id
        return execution

    async def _ended(self, execution: Execution) -> None:
        await self._record_end(await self._view(execution))

    async def _record_end(self, view: RunView) -> None:
        """Record how a run this service started ended, and publish ``run.finished``: before the
        record, so a process that dies in between publishes it again (the same event) when the run
        is settled, rather than never."""
        try:
            record = await self._log.get(view.execution_id)
            if record is None or record.finished:
                return
            await self._events.finished(record, view)
            await self._log.ended(record, view)
        except BackendUnavailable:
            logger.warning("how run %s ended could not be recorded now; it will be later", view.execution_id)
        except Exception:  # a bug of ours: the caller still gets the run; the settling tries again
            logger.exception("how run %s ended could not be recorded", view.execution_id)

    @staticmethod
    async def _announce(publishing: Awaitable[None]) -> None:
        """Publish ``run.started`` without failing the start: the run exists whatever became of its
        event, and an error here would invite starting it again."""
        try:
            await publishing
        except Exception:
            logger.exception("a run's event could not be published")

    async def settle(self) -> int:
        """Read the status of runs started here and not yet seen ending; record those that ended."""
        ended = 0
        for record in await self._log.unfinished(limit=_SETTLE_BATCH):
            try:
                view = await self.status(record.execution_id)
            except VirtuosoError as exc:
                logger.warning("run %s: %s", record.execution_id, exc.message)
                await self._log.checked(record.execution_id)
                continue
            if view.finished:
                ended += 1
            else:
                await self._log.checked(record.execution_id)
        return ended

    # -- reading -------------------------------------------------------------------------------
    async def list(
        self, *, user_id: str | None, goal_id: int | None, limit: int, cursor: str | None = None
    ) -> RunPage:
        return await self._log.list(user_id=user_id, goal_id=goal_id, limit=limit, cursor=cursor)

    async def record(self, execution_id: int) -> RunRecord | None:
        return await self._log.get(execution_id)

    async def junit(
        self, views: Sequence[RunView], *, cases: Sequence[JunitCase] = (), cases_name: str = ""
    ) -> str:
        """JUnit XML for runs: one test case per journey, and one per step the report has; ``cases``
        (suite files, say) in a test suite of their own first."""
        runs = []
        for view in views:
            try:
                report = await self._virtuoso.get_execution_report(view.execution_id)
                journeys = {}
                for journey in report.journeys:
                    if journey.id is not None:
                        journeys[journey.id] = await self._virtuoso.get_journey(journey.id)
            except VirtuosoError as exc:
                # The status alone still makes one test case per run: CI shows the outcome.
                logger.warning("run %s: no report (%s)", view.execution_id, exc.message)
                report, journeys = ExecutionReport(), {}
            runs.append(JunitRun(view=view, report=report, journeys=journeys))
        return junit_xml(runs, cases=cases, cases_name=cases_name)

    # -- helpers -------------------------------------------------------------------------------
    async def _view(self, execution: Execution) -> RunView:
        project_id = await self._project_of(execution.goal_id)
        return view_of(execution, project_id=project_id, ui_base=self._ui_base)

    def _known_project(self, execution: Execution) -> int | None:
        return self._projects.get(execution.goal_id, max_age=_FOREVER) if execution.goal_id else None

    async def _project_of(self, goal_id: int | None) -> int | None:
        """The goal's project (for the UI link), asked once per goal (SpotQA's CI script reads it
        from ``GET /goals/{id}``); ``None`` when Virtuoso does not say."""
        if goal_id is None:
            return None
        known = self._projects.get(goal_id, max_age=_FOREVER)
        if known is not None:
            return known
        try:
            goal = await self._virtuoso.get_goal(goal_id)
        except VirtuosoApiError as exc:  # Virtuoso's refusal, or its breaker: the run is not affected
            logger.info("no project for goal %s (%s): the run has no link", goal_id, exc.message)
            return None
        if goal.project_id is not None:
            self._projects.put(goal_id, goal.project_id)
        return goal.project_id


async def _sent(start: Awaitable[T]) -> T:
    """A start request's answer. If Virtuoso may have received it and did not answer (a timeout, a
    5xx; not a 429, which refuses before anything starts), the error says the run may have started,
    so nobody starts it again blindly."""
    try:
        return await start
    except VirtuosoUnavailable as exc:
        if exc.reached_server and exc.upstream_status != 429:
            exc.message += (
                "; the request reached Virtuoso, so the run may have started: look in Virtuoso before "
                "starting it again"
            )
            exc.args = (exc.message,)
        raise
