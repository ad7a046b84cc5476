"""Suite runs as jobs: submit a file (parsed now: a 422 lists every problem with its line), follow
it (the job's progress and the stored result), and its JUnit XML."""

from __future__ import annotations

import asyncio

from virtuoso_api.api_keys.models import Principal
from virtuoso_api.errors import NotFound
from virtuoso_api.jobs.models import JobAccepted, JobKind
from virtuoso_api.jobs.service import JobService
from virtuoso_api.kit.lifecycle import Needs
from virtuoso_api.runs import RunService
from virtuoso_api.suites.junit import suite_junit
from virtuoso_api.suites.parser import parse_suite
from virtuoso_api.suites.requests import SuiteRunRequest, SuiteRunView
from virtuoso_api.suites.results import COLLECTION
from virtuoso_api.suites.store import SuiteRuns


class SuiteService:
    def __init__(self, *, jobs: JobService, stored: SuiteRuns, runs: RunService) -> None:
        self._jobs = jobs
        self._stored = stored
        self._runs = runs

    def needs(self) -> Needs:
        return Needs(expiring_collections=(COLLECTION,))

    async def submit(
        self, caller: Principal, request: SuiteRunRequest, *, key: str | None = None
    ) -> tuple[JobAccepted, bool]:
        """Queue a suite run; ``(accepted, replayed)``. Parsing runs in a worker thread (CPU work)."""
        suite = await asyncio.to_thread(
            parse_suite,
            request.suite,
            source=request.filename or "suite",
            syntax=request.syntax,
            variables=request.variables,
        )
        return await self._jobs.submit(caller, JobKind.SUITE, request, total=len(suite.steps), key=key)

    async def get(self, caller: Principal | None, run_id: str) -> SuiteRunView:
        """The run, if ``caller`` owns its job (or is an admin; ``None``: the operator's CLI)."""
        job = await self._jobs.get(caller, run_id)
        if job.kind is not JobKind.SUITE:
            raise NotFound(f"suite run {run_id} not found: job {run_id} is a {job.kind.value} job")
        return SuiteRunView(run_id=run_id, job=job, result=await self._stored.get(run_id))

    async def junit(self, caller: Principal | None, run_id: str) -> str:
        view = await self.get(caller, run_id)
        if view.result is None:
            raise NotFound(f"suite run {run_id} has no results yet (job {view.job.status.value})")
        return await suite_junit(self._runs, [view.result])
