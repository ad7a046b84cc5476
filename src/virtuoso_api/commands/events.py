"""The events a command publishes: ``command.executed`` or ``command.failed``, ``batch.completed``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from virtuoso_api.commands.models import BatchOutcome, CommandOutcome, StepOutcome
from virtuoso_api.events import EventType


def command_event(
    *,
    command: str,
    args: Sequence[str],
    checkpoint_id: int | None,
    session_id: str | None,
    source: str,
    duration_ms: float,
    outcome: CommandOutcome | None,
    error: dict[str, Any] | None,
) -> tuple[EventType, dict[str, Any]]:
    data: dict[str, Any] = {
        "command": command,
        "args": list(args),
        "success": error is None,
        "checkpoint_id": checkpoint_id,
        "session_id": session_id,
        "duration_ms": duration_ms,
        "source": source,
    }
    if isinstance(outcome, StepOutcome):
        data |= {"step_id": outcome.step_id, "position": outcome.position, "action": outcome.action}
    if error is not None:
        data["error"] = {key: error[key] for key in ("type", "message", "status") if key in error}
    return (EventType.COMMAND_EXECUTED if error is None else EventType.COMMAND_FAILED), data


def batch_event(batch: BatchOutcome, *, checkpoint_id: int | None) -> dict[str, Any]:
    return {
        "total": batch.total,
        "succeeded": batch.succeeded,
        "failed": batch.failed,
        "skipped": batch.skipped,
        "checkpoint_id": checkpoint_id,
    }
