"""Where ``jobs list|show|cancel|wait`` look: the configured store opened here (the operator's view,
every user's jobs), or a deployed service over HTTP (``VIRTUOSO_API_SERVER``: the key's own jobs,
everyone's for an admin key). Both answer with the same models."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Protocol

from virtuoso_api.cli.remote import RemoteService, remote_service
from virtuoso_api.config import Settings
from virtuoso_api.jobs.models import Job, JobKind, JobPage, JobStatus
from virtuoso_api.services import Services

#: The most jobs one page of ``GET /api/v1/jobs`` holds; a longer list is read page by page.
_PAGE = 200


class JobsBackend(Protocol):
    async def list(
        self, *, owner: str | None, status: JobStatus | None, kind: JobKind | None, limit: int
    ) -> JobPage: ...

    async def get(self, job_id: str) -> Job: ...

    async def cancel(self, job_id: str) -> Job: ...


class LocalJobs:
    def __init__(self, services: Services) -> None:
        self._jobs = services.jobs

    async def list(
        self, *, owner: str | None, status: JobStatus | None, kind: JobKind | None, limit: int
    ) -> JobPage:
        return await self._jobs.list(owner=owner, status=status, kind=kind, limit=limit)

    async def get(self, job_id: str) -> Job:
        return await self._jobs.get(None, job_id)

    async def cancel(self, job_id: str) -> Job:
        return await self._jobs.cancel(None, job_id)


class RemoteJobs:
    def __init__(self, service: RemoteService) -> None:
        self._service = service

    async def list(
        self, *, owner: str | None, status: JobStatus | None, kind: JobKind | None, limit: int
    ) -> JobPage:
        jobs: list[Job] = []
        cursor: str | None = None
        while True:
            params = {
                "status": status.value if status else None,
                "kind": kind.value if kind else None,
                "user_id": owner,
                "limit": min(_PAGE, limit - len(jobs)),
                "cursor": cursor,
            }
            page = JobPage.model_validate(await self._service.json("GET", "/jobs", params=params))
            jobs += page.jobs
            cursor = page.next_cursor
            if cursor is None or len(jobs) >= limit:
                return JobPage(jobs=jobs, next_cursor=cursor)

    async def get(self, job_id: str) -> Job:
        return Job.model_validate(await self._service.json("GET", f"/jobs/{job_id}"))

    async def cancel(self, job_id: str) -> Job:
        return Job.model_validate(await self._service.json("POST", f"/jobs/{job_id}/cancel"))


@contextlib.asynccontextmanager
async def jobs_backend(settings: Settings) -> AsyncIterator[JobsBackend]:
    remote = remote_service(settings)
    if remote is not None:
        async with remote:
            yield RemoteJobs(remote)
        return
    async with Services.running(settings) as services:
        yield LocalJobs(services)
