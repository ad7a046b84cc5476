"""Where ``suite run`` sends each file: the service opened in this process (the runner adds the
steps through our command service), or a deployed service over HTTP (``VIRTUOSO_API_SERVER``: the
file goes to ``POST /api/v1/suites/runs`` and is followed there). Both drive the same progress
observer and answer the same :class:`SuiteRunResult`, so ``suite run`` prints and exits the same way."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Final, Literal, Protocol

from virtuoso_api.api_keys.models import Principal, Scope
from virtuoso_api.cli._runs_backend import RemoteRuns
from virtuoso_api.cli._suite_junit import merge_suite_reports
from virtuoso_api.cli.remote import RemoteService
from virtuoso_api.history.models import Source
from virtuoso_api.jobs.models import JobAccepted
from virtuoso_api.kit.ids import new_id
from virtuoso_api.reports.from_suite import suite_report
from virtuoso_api.runs.junit import junit_xml
from virtuoso_api.services import Services
from virtuoso_api.suites.junit import SUITE_CASES, file_case, suite_junit
from virtuoso_api.suites.model import Suite
from virtuoso_api.suites.placement import Lookups, PlacementOptions
from virtuoso_api.suites.requests import SuiteRunView
from virtuoso_api.suites.results import SuiteRunResult, SuiteStatus
from virtuoso_api.suites.runner import DirectSink, Observer, RunOptions, SuiteRunner

#: Polling ``GET /suites/runs/{id}`` (it holds no wait): soon at first, then less often.
_FIRST_POLL_SECONDS: Final = 0.2
_MAX_POLL_SECONDS: Final = 5.0
#: While a file's run executes, its route holds each answer this long at most (it answers at once
#: when the run ends): the bar moves every few seconds, from the service's one shared poll.
_RUN_HOLD_SECONDS: Final = 2.0


@dataclass(frozen=True)
class SuiteRunOptions:
    execute: bool
    project: str | None
    checkpoint_id: int | None
    continue_on_error: bool
    as_json: bool
    junit: Path | None
    user: str
    #: The ``--var`` values: already in each parsed file; a deployed service parses the file again.
    variables: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SuiteFile:
    """A parsed file and its text as read (a deployed service is sent the text and parses it)."""

    suite: Suite
    text: str
    syntax: Literal["yaml", "json"] | None


class SuitesBackend(Protocol):
    async def run(self, file: SuiteFile, options: SuiteRunOptions, observer: Observer) -> SuiteRunResult: ...

    async def junit(self, results: Sequence[SuiteRunResult]) -> str: ...

    async def report(self, result: SuiteRunResult) -> str | None:
        """The signed link to the file's HTML report, or None where there is none."""


class LocalSuites:
    def __init__(self, services: Services, user: str) -> None:
        self._services = services
        self._caller = Principal(key_id="cli", user_id=user, name="cli", scopes=frozenset(Scope))
        # One runner for every file: a project two files name is looked up (or created) once.
        self._runner = SuiteRunner(
            lookups=Lookups(services.virtuoso.client),
            runs=services.runs,
            clock=services.clock,
            caller=self._caller,
            source=Source.CLI,
        )

    async def run(self, file: SuiteFile, options: SuiteRunOptions, observer: Observer) -> SuiteRunResult:
        run_options = RunOptions(
            execute=options.execute,
            continue_on_error=True if options.continue_on_error else None,
            placement=PlacementOptions(
                project=options.project,
                checkpoint_id=options.checkpoint_id,
                default_project=self._services.settings.suite_default_project,
            ),
        )
        result = self._runner.new_result(file.suite, new_id("suite"), run_options)
        sink = DirectSink(self._services.commands, self._caller, Source.CLI)
        return await self._runner.run(file.suite, result, run_options, sink, observer)

    async def junit(self, results: Sequence[SuiteRunResult]) -> str:
        return await suite_junit(self._services.runs, results)

    async def report(self, result: SuiteRunResult) -> str | None:
        """Published as a suite job publishes it. One that cannot be written is said, and never
        changes the run's exit code."""
        from virtuoso_api.cli._runtime import err

        try:
            return (await self._services.reports.publish(suite_report(result)))["html"]
        except Exception as exc:  # the run happened: its outcome stands without the report
            err.print(f"{result.source}: the report could not be written ({type(exc).__name__}: {exc})")
            return None


class RemoteSuites:
    def __init__(self, service: RemoteService) -> None:
        self._service = service
        self._runs = RemoteRuns(service)
        #: Per project a file names (None: the service's default), set once the first such file is
        #: placed. Each file is a job of its own on the service, and two jobs looking for a project
        #: at once would both create it; here, as locally, the project is found or created once.
        self._projects: dict[str, asyncio.Event] = {}
        #: Runs whose job ended with nothing stored (cancelled while queued, say): the service has
        #: no report for them, so their file case is written here.
        self._unstored: set[str] = set()
        #: The HTML report's signed link the service answered with each finished run, if any.
        self._reports: dict[str, str] = {}

    async def run(self, file: SuiteFile, options: SuiteRunOptions, observer: Observer) -> SuiteRunResult:
        """Submit the file as a suite job, follow it (the stored result as it grows; while its run
        executes, the run's held waits), and answer the stored result."""
        suite = file.suite
        project = repr(options.project or suite.infrastructure.project)
        placed = self._projects.get(project)
        if placed is not None:
            await placed.wait()
            placed = None
        else:
            placed = self._projects[project] = asyncio.Event()
        try:
            return await self._submit_and_follow(file, options, observer, placed)
        finally:
            if placed is not None:
                placed.set()  # whatever happened: the others go on (and find, or fail, themselves)

    async def _submit_and_follow(
        self, file: SuiteFile, options: SuiteRunOptions, observer: Observer, placed: asyncio.Event | None
    ) -> SuiteRunResult:
        suite = file.suite
        body = {
            "suite": file.text,
            # Only the name: the service keeps no client's path (and limits the name's length).
            "filename": PurePath(suite.source).name[:200] or None,
            "syntax": file.syntax,
            "variables": options.variables,
            "project": options.project,
            "checkpoint_id": options.checkpoint_id,
            "execute": options.execute,
            "continue_on_error": True if options.continue_on_error else None,
        }
        answer = await self._service.json(
            "POST", "/suites/runs", json={k: v for k, v in body.items() if v not in (None, {})}
        )
        path = f"/suites/runs/{JobAccepted.model_validate(answer).job_id}"
        follower = _Follower(observer)
        delay = _FIRST_POLL_SECONDS
        while True:
            view = SuiteRunView.model_validate(await self._service.json("GET", path))
            result = view.result
            if result is not None:
                await follower.seen(result)
                if placed is not None and result.placement is not None:
                    placed.set()
            if view.job.status.finished:
                if result is None:
                    self._unstored.add(view.run_id)
                if view.reports and view.reports.get("html"):
                    self._reports[view.run_id] = view.reports["html"]
                return _as_here(view, file, options)
            if result is not None and result.execution_id is not None and result.run is None:
                # Executing: the run's own route holds the request until it changes (each answer
                # is progress); then the job stores the outcome, soon.
                await self._runs.wait(
                    result.execution_id,
                    timeout=None,
                    on_update=functools.partial(observer.run_update, result),
                    longest=_RUN_HOLD_SECONDS,
                )
                delay = _FIRST_POLL_SECONDS
                continue
            await asyncio.sleep(delay)
            delay = min(delay * 2, _MAX_POLL_SECONDS)

    async def junit(self, results: Sequence[SuiteRunResult]) -> str:
        documents = []
        for result in results:
            if result.run_id in self._unstored:
                documents.append(junit_xml([], cases=[file_case(result)], cases_name=SUITE_CASES))
            else:
                documents.append(
                    (await self._service.call("GET", f"/suites/runs/{result.run_id}/junit")).text
                )
        return merge_suite_reports(documents, [result.source for result in results])

    async def report(self, result: SuiteRunResult) -> str | None:
        """The service's job published it; its link as the stored result answered it."""
        return self._reports.get(result.run_id)


class _Follower:
    """The stored result as polled, told to the observer as the local runner tells it: placed, each
    step (the result is stored every few steps; the steps between are told one by one, so a CI log
    reads the same), the run started."""

    def __init__(self, observer: Observer) -> None:
        self._observer = observer
        self._placed = False
        self._steps = 0
        self._started = False

    async def seen(self, result: SuiteRunResult) -> None:
        changed = self._observer.changed
        if not self._placed and result.placement is not None:
            self._placed = True
            await changed(result, "placed")
        for count in range(self._steps + 1, len(result.steps) + 1):
            await changed(result.model_copy(update={"steps": result.steps[:count]}), "step")
        self._steps = max(self._steps, len(result.steps))
        if not self._started and result.execution_id is not None:
            self._started = True
            await changed(result, "run-started")
        if result.run is not None:
            self._observer.run_update(result, result.run)


def _as_here(view: SuiteRunView, file: SuiteFile, options: SuiteRunOptions) -> SuiteRunResult:
    """The stored result under this client's name for the file (the service knows its base name
    only), its warnings located there too; a job that ended without finishing its result (retries
    exhausted, cancelled) is INCOMPLETE with the job's error."""
    suite = file.suite
    job = view.job
    result = view.result or SuiteRunResult(
        run_id=view.run_id,
        source=suite.source,
        name=suite.name,
        dialect=suite.dialect.value,
        execute=options.execute,
        total_steps=len(suite.steps),
        started_at=job.started_at or job.created_at,
    )
    update: dict[str, object] = {
        "source": suite.source,
        "warnings": [warning.located(suite.source) for warning in suite.warnings],
    }
    if not result.status.finished:
        update["status"] = SuiteStatus.INCOMPLETE
        update["finished_at"] = job.finished_at
        update["error"] = result.error or job.error or {"type": "incomplete", "message": f"job {job.status}"}
    return result.model_copy(update=update)
