"""Executing commands: one parser, one path to Virtuoso, every execution recorded.

HTTP, the CLI and (later) the task queue all call :class:`CommandService`, so a command behaves the
same wherever it comes from.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from virtuoso_api.api_keys.models import Principal
from virtuoso_api.commands.intents import CREATING, run_intent
from virtuoso_api.commands.models import (
    BatchItem,
    BatchOutcome,
    BatchRequest,
    CommandOutcome,
    CommandRequest,
    ManagementOutcome,
    StepOutcome,
)
from virtuoso_api.commands.vocabulary import StepCommand, parse_command
from virtuoso_api.errors import BackendUnavailable, InvalidInput, VirtuosoApiError
from virtuoso_api.history.models import Source
from virtuoso_api.history.service import HistoryService
from virtuoso_api.sessions.service import SessionService
from virtuoso_api.virtuoso.link import VirtuosoLink
from virtuoso_api.virtuoso.steps import StepCreate

logger = logging.getLogger(__name__)

# Results larger than this are summarised in history rather than stored whole (list-projects, say).
_MAX_RESULT_IN_HISTORY = 8_192


@dataclass
class _Target:
    checkpoint_id: int
    session_id: str | None


@dataclass
class _Positions:
    """Next append position per checkpoint within one batch: one count per checkpoint, not per step."""

    next: dict[int, int] = field(default_factory=dict)


class CommandService:
    def __init__(self, *, virtuoso: VirtuosoLink, sessions: SessionService, history: HistoryService) -> None:
        self._virtuoso = virtuoso
        self._sessions = sessions
        self._history = history

    async def execute(
        self, caller: Principal, request: CommandRequest, *, source: Source = Source.HTTP
    ) -> CommandOutcome:
        """Run one command; raises the error it failed with (after recording it)."""
        return await self._run(caller, request, source=source, positions=_Positions())

    async def execute_batch(
        self, caller: Principal, request: BatchRequest, *, source: Source = Source.HTTP
    ) -> BatchOutcome:
        """Run commands in order. Every command is parsed first: one malformed command refuses the
        whole batch (422) before anything reaches Virtuoso."""
        problems = []
        for index, command in enumerate(request.commands):
            try:
                parse_command(command.command, command.args)
            except InvalidInput as exc:
                problems.append({"field": f"commands[{index}].{exc.field}", "reason": exc.reason})
        if problems:
            error = InvalidInput(problems[0]["field"], problems[0]["reason"])
            error.details = problems
            raise error

        positions = _Positions()
        items: list[BatchItem] = []
        stopped = False
        for index, command in enumerate(request.commands):
            if stopped:
                items.append(BatchItem(index=index, status="skipped"))
                continue
            if command.checkpoint_id is None and command.session_id is None:
                command = command.model_copy(update={"checkpoint_id": request.checkpoint_id})
            try:
                outcome = await self._run(caller, command, source=source, positions=positions)
            except VirtuosoApiError as exc:
                items.append(
                    BatchItem(index=index, status="failed", status_code=exc.status_code, error=_error_of(exc))
                )
                stopped = request.stop_on_error
                continue
            items.append(
                BatchItem(index=index, status="succeeded", status_code=status_of(outcome), outcome=outcome)
            )
        count = {
            status: sum(1 for i in items if i.status == status)
            for status in ("succeeded", "failed", "skipped")
        }
        return BatchOutcome(results=items, total=len(items), **count)

    async def _run(
        self, caller: Principal, request: CommandRequest, *, source: Source, positions: _Positions
    ) -> CommandOutcome:
        started = time.perf_counter()
        target: _Target | None = None
        try:
            parsed = parse_command(request.command, request.args)
            if isinstance(parsed, StepCommand):
                target = await self._target(caller, request)
                outcome: CommandOutcome = await self._add_step(parsed, request, target, positions, started)
            else:
                result = await run_intent(self._virtuoso.client, parsed)
                outcome = ManagementOutcome(
                    command=request.command,
                    args=request.args,
                    result=result,
                    duration_ms=_since(started),
                    created=isinstance(parsed, CREATING),
                )
        except VirtuosoApiError as exc:
            await self._record(caller, request, target, source, started, error=_error_of(exc))
            raise
        await self._record(caller, request, target, source, started, outcome=outcome)
        return outcome

    async def _target(self, caller: Principal, request: CommandRequest) -> _Target:
        if request.checkpoint_id is not None:
            return _Target(request.checkpoint_id, None)
        if request.session_id is not None:
            session = await self._sessions.get(caller.user_id, request.session_id)
        else:
            current = await self._sessions.current(caller.user_id)
            if current is None:
                raise InvalidInput(
                    "checkpoint_id",
                    "no checkpoint: pass checkpoint_id (or session_id), or activate a session first",
                )
            session = current
        if session.checkpoint_id is None:
            raise InvalidInput("session_id", f"session {session.session_id} has no checkpoint")
        return _Target(session.checkpoint_id, session.session_id)

    async def _add_step(
        self,
        parsed: StepCommand,
        request: CommandRequest,
        target: _Target,
        positions: _Positions,
        started: float,
    ) -> StepOutcome:
        if parsed.at is not None and request.position is not None and parsed.at != request.position:
            raise InvalidInput("position", f"given twice: position {request.position} and --at {parsed.at}")
        client = self._virtuoso.client
        checkpoint = target.checkpoint_id
        if checkpoint not in positions.next:
            # Listing also proves the checkpoint exists (a 404 names it) before anything is written.
            positions.next[checkpoint] = len(await client.list_steps(checkpoint)) + 1
        last = positions.next[checkpoint]
        position = parsed.at or request.position or last
        if position > last:
            field = "position" if request.position else "args.--at"
            reason = f"{position} is past the end: checkpoint {checkpoint} takes 1 to {last}"
            raise InvalidInput(field, reason)
        created = await client.create_step(
            StepCreate(checkpoint_id=checkpoint, step_index=position, parsed_step=parsed.step)
        )
        positions.next[checkpoint] += 1
        return StepOutcome(
            step_id=created.id,
            checkpoint_id=created.checkpoint_id or checkpoint,
            position=created.step_index or position,
            action=created.action or parsed.step.action.value,
            command=request.command,
            args=request.args,
            session_id=target.session_id,
            duration_ms=_since(started),
        )

    async def _record(
        self,
        caller: Principal,
        request: CommandRequest,
        target: _Target | None,
        source: Source,
        started: float,
        *,
        outcome: CommandOutcome | None = None,
        error: dict[str, Any] | None = None,
    ) -> None:
        checkpoint = target.checkpoint_id if target else request.checkpoint_id
        try:
            await self._history.record(
                user_id=caller.user_id,
                key_id=caller.key_id,
                session_id=target.session_id if target else request.session_id,
                checkpoint_id=checkpoint,
                command=request.command,
                args=request.args,
                success=error is None,
                result=None if outcome is None else _summary(outcome),
                error=error,
                duration_ms=_since(started),
                source=source,
            )
        except BackendUnavailable:
            # The command has run: failing its answer now would invite a retry that repeats it.
            logger.exception("command history could not be written")


def _since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)


def status_of(outcome: CommandOutcome) -> int:
    """201 when the command created something in Virtuoso, else 200."""
    return 201 if isinstance(outcome, StepOutcome) or outcome.created else 200


def _error_of(exc: VirtuosoApiError) -> dict[str, Any]:
    error: dict[str, Any] = {"type": exc.error_type, "message": exc.message, "status": exc.status_code}
    if exc.details is not None:
        error["details"] = exc.details
    return error


def _summary(outcome: CommandOutcome) -> dict[str, Any]:
    result = outcome.model_dump(mode="json", exclude={"command", "args", "duration_ms"})
    if len(json.dumps(result)) > _MAX_RESULT_IN_HISTORY:
        return {"summary": "result too large to keep in history", "keys": sorted(result.get("result", {}))}
    return result
