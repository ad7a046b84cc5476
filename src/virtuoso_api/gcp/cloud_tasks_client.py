"""``cloud_tasks_client``: async commands and batches, as the seed promised::

    from virtuoso_api.gcp import get_cloud_tasks_client

    tasks = get_cloud_tasks_client()
    task = await tasks.create_command_task(
        command="step-navigate", args=["to", "https://example.com"],
        checkpoint_id="cp_123", user_id="user-456",
    )
    batch_task = await tasks.create_batch_task(commands=[...], batch_id="batch-001", parallel=True)
    suite_task = await tasks.create_test_suite_task(
        test_suite_path="suites/checkout.yaml", project_id="Shop", variables={"env": "staging"},
    )
    result = await tasks.get_test_suite_result(suite_task["job_id"])

Each call records a job and enqueues its task (the local queue, or Cloud Tasks with
``USE_CLOUD_TASKS``) and answers the job as a dict with the task's ``name``. ``batch_id`` (and a
command's ``task_id``) is an idempotency key: the same id is the same job, run once.

On the local queue this client also runs tasks while it is open (like a serving process does), so a
script that queues work and waits for it needs nothing else; with Cloud Tasks the service that
``PUBLIC_BASE_URL`` names runs them.

A test suite task is the same job as ``POST /api/v1/suites/runs`` (kind ``suite``): the file is read
and parsed now (``SuiteInvalid`` lists every problem with its line), then found or made in Virtuoso,
its steps added and, unless ``execute=False``, its journey run, by the task. ``suite_id`` is its
idempotency key. ``environment`` and ``callback_url`` of the original's signature are not taken: a
journey runs in its goal's environment, and webhooks (``job.completed``) say when a job ends.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from virtuoso_api.api_keys.models import Principal, Scope
from virtuoso_api.commands.models import CommandRequest
from virtuoso_api.gcp._facade import OnePerProcess, ServicesClient
from virtuoso_api.jobs.models import AsyncBatchRequest, AsyncCommandRequest, Job, JobAccepted
from virtuoso_api.services import Services
from virtuoso_api.suites import Problem, SuiteInvalid
from virtuoso_api.suites.requests import MAX_SUITE_CHARS, SuiteRunRequest

__all__ = ["CloudTasksClient", "close_cloud_tasks_client", "get_cloud_tasks_client"]

JsonDict = dict[str, Any]
DEFAULT_USER = "facade"


class CloudTasksClient(ServicesClient):
    background = True  # on the local queue, the client runs tasks while it is open

    async def create_command_task(
        self,
        command: str,
        args: Sequence[str] = (),
        checkpoint_id: int | str | None = None,
        user_id: str | None = None,
        session_id: str | None = None,
        priority: str = "normal",
        delay_seconds: int = 0,
        task_id: str | None = None,
    ) -> JsonDict:
        """Queue one command for ``user_id``; the command is checked now (InvalidInput if wrong)."""
        services = await self._open()
        request = AsyncCommandRequest.model_validate(
            {
                "command": command,
                "args": list(args),
                "checkpoint_id": checkpoint_id,
                "session_id": session_id,
                "priority": priority,
                "delay_seconds": delay_seconds,
            }
        )
        accepted, _ = await services.jobs.submit_command(_caller(user_id), request, key=task_id)
        return await self._answer(services, accepted)

    async def create_batch_task(
        self,
        commands: Sequence[Mapping[str, Any]],
        batch_id: str | None = None,
        parallel: bool = True,
        user_id: str | None = None,
        checkpoint_id: int | str | None = None,
        continue_on_error: bool = False,
        priority: str = "normal",
        delay_seconds: int = 0,
    ) -> JsonDict:
        """Queue a batch (``[{"command", "args", ...}]``); the same ``batch_id`` is the same job."""
        services = await self._open()
        request = AsyncBatchRequest.model_validate(
            {
                "commands": [CommandRequest.model_validate(dict(c)) for c in commands],
                "checkpoint_id": checkpoint_id,
                "parallel": parallel,
                "continue_on_error": continue_on_error,
                "priority": priority,
                "delay_seconds": delay_seconds,
            }
        )
        accepted, _ = await services.jobs.submit_batch(_caller(user_id), request, key=batch_id)
        return await self._answer(services, accepted)

    async def create_test_suite_task(
        self,
        test_suite_path: str | os.PathLike[str] | None = None,
        project_id: int | str | None = None,
        user_id: str | None = None,
        variables: Mapping[str, str] | None = None,
        delay_seconds: int = 0,
        *,
        suite: str | None = None,
        execute: bool = True,
        checkpoint_id: int | str | None = None,
        continue_on_error: bool | None = None,
        priority: str = "normal",
        suite_id: str | None = None,
    ) -> JsonDict:
        """Queue a suite file (``test_suite_path``, or its text as ``suite``) for ``user_id``:
        ``project_id`` is a project's id or name (over the file's), ``variables`` go over the file's."""
        if (test_suite_path is None) == (suite is None):
            raise ValueError("give test_suite_path or suite (the file's text), not both")
        filename = None
        if test_suite_path is not None:
            path = Path(test_suite_path)
            filename = path.name
            suite = _read_suite(path)
        services = await self._open()
        request = SuiteRunRequest.model_validate(
            {
                "suite": suite,
                "filename": filename,
                "variables": dict(variables or {}),
                "project": None if project_id is None else str(project_id),
                "checkpoint_id": checkpoint_id,
                "execute": execute,
                "continue_on_error": continue_on_error,
                "priority": priority,
                "delay_seconds": delay_seconds,
            }
        )
        accepted, _ = await services.suites.submit(_caller(user_id), request, key=suite_id)
        return await self._answer(services, accepted)

    async def get_test_suite_result(self, job_id: str) -> JsonDict:
        """The suite run: its job and the stored result (``None`` until its steps have a place)."""
        services = await self._open()
        return (await services.suites.get(None, job_id)).model_dump(mode="json")

    async def get_job(self, job_id: str) -> JsonDict:
        services = await self._open()
        return _job_dict(await services.jobs.get(None, job_id))

    async def cancel_job(self, job_id: str) -> JsonDict:
        services = await self._open()
        return _job_dict(await services.jobs.cancel(None, job_id))

    async def wait_for_job(self, job_id: str, *, timeout: float = 300, interval: float = 0.2) -> JsonDict:
        """The job once it has finished; TimeoutError if it has not within ``timeout`` seconds."""
        services = await self._open()
        async with asyncio.timeout(timeout):
            while not (job := await services.jobs.get(None, job_id)).status.finished:
                await asyncio.sleep(interval)
        return _job_dict(job)

    async def _answer(self, services: Services, accepted: JobAccepted) -> JsonDict:
        return {**_job_dict(await services.jobs.get(None, accepted.job_id)), "name": accepted.task_name}


def _read_suite(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            content = handle.read(MAX_SUITE_CHARS * 4 + 1)
    except OSError as exc:
        raise SuiteInvalid(str(path), [Problem(None, "", f"cannot be read: {exc.strerror or exc}")]) from None
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        raise SuiteInvalid(str(path), [Problem(None, "", "is not UTF-8 text")]) from None


def _caller(user_id: str | None) -> Principal:
    user = user_id or DEFAULT_USER
    return Principal(key_id="", user_id=user, name=user, scopes=frozenset({Scope.READ, Scope.WRITE}))


def _job_dict(job: Job) -> JsonDict:
    return {**job.model_dump(mode="json"), "name": job.task_name}


_process_client = OnePerProcess(CloudTasksClient)


def get_cloud_tasks_client() -> CloudTasksClient:
    """The process's client, built on first call from the environment (``Settings``)."""
    return _process_client.get()


async def close_cloud_tasks_client() -> None:
    """Close the process's client (if any) and forget it; the next getter call builds a new one."""
    await _process_client.close()
