"""Executing commands: one parser, one path to Virtuoso, every execution recorded.

HTTP, the CLI, the facade and (next) the task queue all call :class:`CommandService`, so a command
behaves the same wherever it comes from. The service answers outcomes, never HTTP statuses: the
routes decide those (``endpoints.py``).

A step command: parse → checkpoint (the request, the named session or the active one) → the
checkpoint's turn and next position (:mod:`positions`) → an in-flight record (:mod:`inflight`) →
``POST /teststeps`` → the history entry and the record's removal, in one durable write.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from virtuoso_api.api_keys.models import Principal
from virtuoso_api.commands.events import batch_event, command_event
from virtuoso_api.commands.inflight import InFlight, InFlightSteps, RequestIds
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
from virtuoso_api.commands.positions import Slot, StepPositions
from virtuoso_api.commands.vocabulary import StepCommand, parse_command
from virtuoso_api.errors import BackendUnavailable, InvalidInput, VirtuosoApiError, state_conflict
from virtuoso_api.events import EventPublisher, EventType
from virtuoso_api.history.models import HistoryEntry, Source
from virtuoso_api.history.service import HistoryService
from virtuoso_api.infra.documents import DocumentStore, DurableWrites
from virtuoso_api.kit.clock import Clock
from virtuoso_api.kit.lifecycle import Needs, PeriodicJob
from virtuoso_api.kit.redact import redact_value
from virtuoso_api.runs import RunService
from virtuoso_api.sessions.service import SessionService
from virtuoso_api.virtuoso import VirtuosoClient, VirtuosoNotFound, VirtuosoRejected
from virtuoso_api.virtuoso.steps import StepCreate

logger = logging.getLogger(__name__)

# Results larger than this are summarised in history rather than stored whole (list-projects, say).
_MAX_RESULT_IN_HISTORY = 8_192
_SETTLE_EVERY_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class Target:
    checkpoint_id: int
    session_id: str | None


@dataclass(slots=True)
class _Attempt:
    """One command's run. ``owned`` turns true once an in-flight record exists: from then on that
    record, not the caller, is what puts the command in history (now, or when it is settled)."""

    started: float
    owned: bool = False


class CommandService:
    def __init__(
        self,
        *,
        virtuoso: VirtuosoClient,
        runs: RunService,
        sessions: SessionService,
        history: HistoryService,
        store: DocumentStore,
        writes: DurableWrites,
        clock: Clock,
        position_trust_seconds: float,
        longest_virtuoso_call: timedelta,
        events: EventPublisher,
    ) -> None:
        self._virtuoso = virtuoso
        self._runs = runs
        self._events = events
        self._sessions = sessions
        self._history = history
        self._positions = StepPositions(clock=clock, trust_seconds=position_trust_seconds)
        self._in_flight = InFlightSteps(
            store, writes, history=history, clock=clock, longest_call=longest_virtuoso_call
        )

    def needs(self) -> Needs:
        job = PeriodicJob("settle in-flight steps", _SETTLE_EVERY_SECONDS, self.settle_in_flight)
        return Needs(periodic=(job,), at_start=(self.settle_in_flight,))

    async def settle_in_flight(self) -> int:
        """Record in history the steps whose requests were interrupted (see :mod:`inflight`)."""
        return await self._in_flight.settle(self._virtuoso)

    async def execute(
        self,
        caller: Principal,
        request: CommandRequest,
        *,
        source: Source = Source.HTTP,
        ids: RequestIds | None = None,
    ) -> CommandOutcome:
        """Run one command; raises the error it failed with (after recording it). ``ids`` fixes the
        in-flight record's and the history entry's ids (jobs: see :meth:`settle_request`)."""
        return await self._run(caller, request, source=source, ids=ids)

    async def settle_request(self, record_id: str) -> HistoryEntry | None:
        """Settle the in-flight record ``record_id`` now (the caller knows its request has ended):
        the history entry written for it says whether the step was made. ``None`` when there is no
        such record, or another settler recorded it first (see :meth:`InFlightSteps.settle_one`)."""
        return await self._in_flight.settle_one(self._virtuoso, record_id)

    async def execute_batch(
        self, caller: Principal, request: BatchRequest, *, source: Source = Source.HTTP
    ) -> BatchOutcome:
        """Run commands in order. Every command is parsed first: one malformed command refuses the
        whole batch (422) before anything reaches Virtuoso. A command that fails for a reason of our
        own (a bug) fails its item like any other error, so the steps made before it stay reported."""
        _parse_all(request.commands)
        items: list[BatchItem] = []
        stopped = False
        for index, command in enumerate(request.commands):
            if stopped:
                items.append(BatchItem(index=index, status="skipped"))
                continue
            if command.checkpoint_id is None and command.session_id is None:
                command = command.model_copy(update={"checkpoint_id": request.checkpoint_id})
            try:
                outcome = await self._run(caller, command, source=source)
            except Exception as exc:
                items.append(BatchItem(index=index, status="failed", error=error_of(exc)))
                stopped = request.stop_on_error
                continue
            items.append(BatchItem(index=index, status="succeeded", outcome=outcome))
        batch = BatchOutcome.of(items)
        data = batch_event(batch, checkpoint_id=request.checkpoint_id)
        await self._events.publish_or_log(EventType.BATCH_COMPLETED, data, owner=caller.user_id)
        return batch

    async def add_steps(
        self,
        caller: Principal,
        checkpoint_id: int,
        commands: Sequence[CommandRequest],
        *,
        source: Source,
        stop_on_error: bool = True,
    ) -> list[BatchItem]:
        """Append step commands to one checkpoint in order, holding its turn throughout (one count,
        then one create per step): for batches and suite files. Every command is parsed first."""
        parsed = _parse_all(commands)
        if not all(isinstance(p, StepCommand) for p in parsed):
            raise InvalidInput("commands", "add_steps takes step commands only")
        target = Target(checkpoint_id, None)
        items: list[BatchItem] = []
        async with self._positions.turn(checkpoint_id, self._counter(checkpoint_id)) as slot:
            for index, (command, step) in enumerate(zip(commands, parsed, strict=True)):
                assert isinstance(step, StepCommand)
                if items and items[-1].status != "succeeded" and stop_on_error:
                    items.append(BatchItem(index=index, status="skipped"))
                    continue
                attempt = _Attempt(time.perf_counter())
                try:
                    outcome = await self._add_step(caller, step, command, target, slot, source, attempt)
                except Exception as exc:
                    if not attempt.owned:
                        await self._record(caller, command, target, source, attempt, error=error_of(exc))
                    items.append(BatchItem(index=index, status="failed", error=error_of(exc)))
                    continue
                items.append(BatchItem(index=index, status="succeeded", outcome=outcome))
        return items

    async def _run(
        self, caller: Principal, request: CommandRequest, *, source: Source, ids: RequestIds | None = None
    ) -> CommandOutcome:
        attempt = _Attempt(time.perf_counter())
        target: Target | None = None
        try:
            parsed = parse_command(request.command, request.args)
            if isinstance(parsed, StepCommand):
                target = await self._target(caller, request)
                counter = self._counter(target.checkpoint_id)
                async with self._positions.turn(target.checkpoint_id, counter) as slot:
                    return await self._add_step(caller, parsed, request, target, slot, source, attempt, ids)
            result = await run_intent(self._virtuoso, self._runs, parsed, caller=caller, source=source)
            outcome = ManagementOutcome(
                command=request.command,
                args=request.args,
                result=result,
                duration_ms=_since(attempt.started),
                created=isinstance(parsed, CREATING),
            )
        except Exception as exc:  # recorded whatever it was, a bug of ours included
            if not attempt.owned:
                await self._record(caller, request, target, source, attempt, error=error_of(exc), ids=ids)
            raise
        await self._record(caller, request, target, source, attempt, outcome=outcome, ids=ids)
        return outcome

    def _counter(self, checkpoint: int) -> Any:
        async def count() -> int:
            # Listing also proves the checkpoint exists (a 404 names it) before anything is written.
            return len(await self._virtuoso.list_steps(checkpoint))

        return count

    async def _target(self, caller: Principal, request: CommandRequest) -> Target:
        if request.checkpoint_id is not None:
            return Target(request.checkpoint_id, None)
        if request.session_id is not None:
            session = await self._sessions.get(caller.user_id, request.session_id)
        else:
            current = await self._sessions.current(caller.user_id)
            if current is None:
                raise state_conflict(
                    "checkpoint_id",
                    "no checkpoint: pass checkpoint_id (or session_id), or activate a session first",
                )
            session = current
        if session.checkpoint_id is None:
            raise state_conflict("session_id", f"session {session.session_id} has no checkpoint")
        return Target(session.checkpoint_id, session.session_id)

    async def _add_step(
        self,
        caller: Principal,
        parsed: StepCommand,
        request: CommandRequest,
        target: Target,
        slot: Slot,
        source: Source,
        attempt: _Attempt,
        ids: RequestIds | None = None,
    ) -> StepOutcome:
        """Create the step at its position and record it; the caller holds the checkpoint's turn."""
        if parsed.at is not None and request.position is not None and parsed.at != request.position:
            raise InvalidInput("position", f"given twice: position {request.position} and --at {parsed.at}")
        checkpoint = target.checkpoint_id
        while True:
            last = slot.next + slot.added
            position = parsed.at or request.position or last
            if position > last and not slot.fresh:  # the remembered count may be stale: count again
                await self._positions.recount(checkpoint, slot, self._counter(checkpoint))
                continue
            if position > last:
                field = "position" if request.position else "args.--at"
                reason = f"{position} is past the end: checkpoint {checkpoint} takes 1 to {last}"
                raise state_conflict(field, reason)
            in_flight = self._in_flight.new(
                ids,
                user_id=caller.user_id,
                key_id=caller.key_id,
                session_id=target.session_id,
                checkpoint_id=checkpoint,
                position=position,
                command=request.command,
                args=list(request.args),
                source=source,
                step=parsed.step.to_payload(),
            )
            await self._in_flight.begin(in_flight)
            attempt.owned = True
            try:
                created = await self._virtuoso.create_step(
                    StepCreate(checkpoint_id=checkpoint, step_index=position, parsed_step=parsed.step)
                )
            except (VirtuosoRejected, InvalidInput) as exc:
                # Refused, so nothing was made. A remembered position may be what was wrong: count
                # again and try once more; otherwise record the failure (settling the request).
                if not slot.fresh and not isinstance(exc, VirtuosoNotFound):
                    await self._in_flight.drop(in_flight)
                    attempt.owned = False
                    await self._positions.recount(checkpoint, slot, self._counter(checkpoint))
                    continue
                await self._history_of(in_flight, attempt, error=error_of(exc))
                raise
            break
        slot.added += 1
        outcome = StepOutcome(
            step_id=created.id,
            checkpoint_id=created.checkpoint_id or checkpoint,
            position=created.step_index or position,
            action=created.action or parsed.step.action.value,
            command=request.command,
            args=request.args,
            session_id=target.session_id,
            duration_ms=_since(attempt.started),
        )
        await self._history_of(in_flight, attempt, outcome=outcome)
        return outcome

    async def _history_of(
        self,
        request: InFlight,
        attempt: _Attempt,
        *,
        outcome: StepOutcome | None = None,
        error: dict[str, Any] | None = None,
    ) -> None:
        """The history entry of a step request, landing with the removal of its in-flight record."""
        try:
            await self._history.record(
                user_id=request.user_id,
                key_id=request.key_id,
                session_id=request.session_id,
                checkpoint_id=request.checkpoint_id,
                command=request.command,
                args=request.args,
                success=error is None,
                result=None if outcome is None else _summary(outcome),
                error=error,
                duration_ms=_since(attempt.started),
                source=request.source,
                entry_id=request.entry_id,
                also=[self._in_flight.done(request)],
            )
        except BackendUnavailable:
            # The step exists: failing the answer now would invite a retry that repeats it. The
            # in-flight record stays, and settling records the step later.
            logger.exception("command history could not be written")
        await self._publish(
            request.user_id,
            request.command,
            request.args,
            request.checkpoint_id,
            request.session_id,
            request.source,
            attempt,
            outcome,
            error,
        )

    async def _record(
        self,
        caller: Principal,
        request: CommandRequest,
        target: Target | None,
        source: Source,
        attempt: _Attempt,
        *,
        outcome: CommandOutcome | None = None,
        error: dict[str, Any] | None = None,
        ids: RequestIds | None = None,
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
                duration_ms=_since(attempt.started),
                source=source,
                entry_id=None if ids is None else ids.entry_id,
            )
        except BackendUnavailable:
            # The command has run: failing its answer now would invite a retry that repeats it.
            logger.exception("command history could not be written")
        await self._publish(
            caller.user_id,
            request.command,
            request.args,
            checkpoint,
            target.session_id if target else request.session_id,
            source,
            attempt,
            outcome,
            error,
        )

    async def _publish(
        self,
        owner: str,
        command: str,
        args: Sequence[str],
        checkpoint_id: int | None,
        session_id: str | None,
        source: Source,
        attempt: _Attempt,
        outcome: CommandOutcome | None,
        error: dict[str, Any] | None,
    ) -> None:
        kind, data = command_event(
            command=command,
            args=args,
            checkpoint_id=checkpoint_id,
            session_id=session_id,
            source=source.value,
            duration_ms=_since(attempt.started),
            outcome=outcome,
            error=error,
        )
        subject = f"checkpoint/{checkpoint_id}" if checkpoint_id is not None else None
        await self._events.publish_or_log(kind, data, owner=owner, subject=subject)


def parse_commands(commands: Sequence[CommandRequest]) -> list[Any]:
    """Parse every command (for a batch, before anything runs); one 422 naming each bad one."""
    return _parse_all(commands)


def _parse_all(commands: Sequence[CommandRequest]) -> list[Any]:
    parsed: list[Any] = []
    problems: list[dict[str, str]] = []
    for index, command in enumerate(commands):
        try:
            parsed.append(parse_command(command.command, command.args))
        except InvalidInput as exc:
            problems.append({"field": f"commands[{index}].{exc.field}", "reason": exc.reason})
    if problems:
        error = InvalidInput(problems[0]["field"], problems[0]["reason"])
        error.details = problems
        raise error
    return parsed


def _since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)


def error_of(exc: BaseException) -> dict[str, Any]:
    """A failure as history and batch answers keep it; an error of ours shows only that it happened."""
    if not isinstance(exc, VirtuosoApiError):
        logger.error("command failed unexpectedly", exc_info=exc)
        return {"type": "internal_error", "message": "the service failed to run this command", "status": 500}
    error: dict[str, Any] = {"type": exc.error_type, "message": exc.message, "status": exc.status_code}
    if exc.details is not None:
        error["details"] = exc.details
    return redact_value(error)  # messages may quote what Virtuoso or a library said, secrets included


def _summary(outcome: CommandOutcome) -> dict[str, Any]:
    result = outcome.model_dump(mode="json", exclude={"command", "args", "duration_ms"})
    if len(json.dumps(result)) > _MAX_RESULT_IN_HISTORY:
        return {"summary": "result too large to keep in history", "keys": sorted(result.get("result", {}))}
    return result
