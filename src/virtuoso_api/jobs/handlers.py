"""What each kind of job does, one handler per kind, found through :class:`JobHandlers`.

``command`` and ``batch`` are here; ``suite`` is registered by the suites domain when it arrives
(the kind, its queue and the task route exist already). A handler gets a :class:`JobRun` and
answers a :class:`JobResult`; raising :class:`~virtuoso_api.errors.BackendUnavailable` means "not
now" (the task is retried, and fails the job after its last attempt).

Batches: ``parallel=False`` runs the commands in order and, unless ``continue_on_error``, skips the
rest after a failure. ``parallel=True`` groups the commands by the checkpoint they go to (resolved
when the attempt starts: the command's, the batch's, the named session's or the owner's active
session's) and runs the groups at once, at most ``BATCH_PARALLELISM`` of them; inside a group the
commands keep their order, so positions come out as in the request, and a failure skips the rest of
that group only. Management commands have no checkpoint and each is a group of its own. A cancel
stops every group before its next command.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from virtuoso_api.commands.models import BatchItem, BatchOutcome, CommandRequest
from virtuoso_api.commands.vocabulary import StepCommand, parse_command
from virtuoso_api.errors import VirtuosoApiError
from virtuoso_api.jobs.models import AsyncBatchRequest, AsyncCommandRequest, JobKind, JobStatus
from virtuoso_api.jobs.runner import JobRun
from virtuoso_api.sessions.service import SessionService


@dataclass(frozen=True)
class JobResult:
    status: JobStatus
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None


class JobHandler(Protocol):
    async def run(self, run: JobRun) -> JobResult: ...


class JobHandlers:
    """The registry: one handler per kind."""

    def __init__(self) -> None:
        self._handlers: dict[JobKind, JobHandler] = {}

    def register(self, kind: JobKind, handler: JobHandler) -> None:
        if kind in self._handlers:
            raise ValueError(f"a handler for {kind} jobs is already registered")
        self._handlers[kind] = handler

    def get(self, kind: JobKind) -> JobHandler | None:
        return self._handlers.get(kind)

    def __contains__(self, kind: object) -> bool:
        return kind in self._handlers


class CommandJob:
    async def run(self, run: JobRun) -> JobResult:
        request = AsyncCommandRequest.model_validate(run.job.request)
        if await run.cancelled():
            return JobResult(JobStatus.CANCELLED)
        command = CommandRequest.model_validate(request.model_dump(include=set(CommandRequest.model_fields)))
        item = await run.command(0, command)
        await run.advance()
        if item.status == "succeeded" and item.outcome is not None:
            return JobResult(JobStatus.SUCCEEDED, result=item.outcome.model_dump(mode="json"))
        return JobResult(JobStatus.FAILED, error=item.error)


class BatchJob:
    def __init__(self, sessions: SessionService, *, parallelism: int) -> None:
        self._sessions = sessions
        self._parallelism = parallelism

    async def run(self, run: JobRun) -> JobResult:
        request = AsyncBatchRequest.model_validate(run.job.request)
        commands = [
            c.model_copy(update={"checkpoint_id": request.checkpoint_id})
            if c.checkpoint_id is None and c.session_id is None and request.checkpoint_id is not None
            else c
            for c in request.commands
        ]
        items: dict[int, BatchItem] = {}
        groups = await self._groups(run, commands) if request.parallel else [list(range(len(commands)))]
        slots = asyncio.Semaphore(self._parallelism)
        cancelled = False

        async def run_group(indexes: list[int]) -> None:
            nonlocal cancelled
            async with slots:
                stopped = False
                for index in indexes:
                    if stopped or cancelled or await run.cancelled():
                        cancelled = cancelled or not stopped
                        items[index] = BatchItem(index=index, status="skipped")
                        continue
                    item = items[index] = await run.command(index, commands[index])
                    await run.advance()
                    stopped = item.status == "failed" and not request.continue_on_error

        await asyncio.gather(*(run_group(group) for group in groups))
        outcome = BatchOutcome.of([items[i] for i in range(len(commands))])
        result = outcome.model_dump(mode="json")
        if cancelled:
            return JobResult(JobStatus.CANCELLED, result=result)
        if outcome.failed:
            first = next(item for item in outcome.results if item.status == "failed")
            return JobResult(
                JobStatus.FAILED, result=result, error={**(first.error or {}), "index": first.index}
            )
        return JobResult(JobStatus.SUCCEEDED, result=result)

    async def _groups(self, run: JobRun, commands: Sequence[CommandRequest]) -> list[list[int]]:
        """Command indexes grouped by the checkpoint they go to, in request order."""
        groups: dict[str, list[int]] = {}
        for index, command in enumerate(commands):
            groups.setdefault(await self._target(run.job.owner, command, index), []).append(index)
        return list(groups.values())

    async def _target(self, owner: str, command: CommandRequest, index: int) -> str:
        if not isinstance(parse_command(command.command, command.args), StepCommand):
            return f"management:{index}"
        if command.checkpoint_id is not None:
            return f"checkpoint:{command.checkpoint_id}"
        try:
            if command.session_id is not None:
                session = await self._sessions.get(owner, command.session_id)
            else:
                current = await self._sessions.current(owner)
                if current is None:
                    return "no-checkpoint"  # each such command fails alike when it runs
                session = current
        except VirtuosoApiError:
            return f"session:{command.session_id}"  # the command names why when it runs
        return f"checkpoint:{session.checkpoint_id}"
