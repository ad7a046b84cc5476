"""A Cloud Tasks push as the tasks port sees it: the request to a :class:`Delivery`, the handler's
outcome to the answer Cloud Tasks acts on.

``/internal/tasks/{kind}`` uses these, and so does the contract suite's receiver on the emulator,
so the rules are tested where they are written:

- ``X-CloudTasks-TaskRetryCount`` counts the retries so far, so the attempt is that + 1 (a missing
  or garbled header reads as 0: the first attempt, never an error);
- ``X-CloudTasks-TaskName`` is the task's id; ``X-CloudTasks-QueueName`` the queue's short name
  (the emulator sends the queue's full path: its last part is taken either way);
- :class:`Finished` answers 200 and :class:`RetryLater` 503 (with ``Retry-After`` when the handler
  asked for a wait): Cloud Tasks retries every answer outside 2xx with the queue's backoff.

No Google library here: the route exists in every process that serves Cloud Tasks pushes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from virtuoso_api.errors import BadRequest
from virtuoso_api.infra.tasks.port import Delivery, Finished, TaskKind, TaskOutcome

RETRY_STATUS: Final = 503
#: ASCII digits only (``int`` takes other scripts' digits too); Cloud Tasks counts far below a million.
_COUNT: Final = re.compile(r"[0-9]{1,6}")


def delivery_of(
    kind: TaskKind, headers: Mapping[str, str], payload: dict[str, Any], *, max_attempts: int
) -> Delivery:
    """The delivery a push stands for (``headers`` in any case)."""
    lowered = {name.lower(): value for name, value in headers.items()}
    return Delivery(
        name=lowered.get("x-cloudtasks-taskname", "")[:500],
        kind=kind,
        payload=payload,
        attempt=_retries(lowered.get("x-cloudtasks-taskretrycount")) + 1,
        max_attempts=max_attempts,
        queue=lowered.get("x-cloudtasks-queuename", "").rsplit("/", 1)[-1][:100],
    )


def payload_of(body: bytes) -> dict[str, Any]:
    """The task's payload: a JSON object, else :class:`BadRequest` (Cloud Tasks retries a 400, but
    only a task this service did not create has another body)."""
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise BadRequest("the task body is not JSON") from exc
    if not isinstance(payload, dict):
        raise BadRequest("the task body must be a JSON object")
    return payload


@dataclass(frozen=True, slots=True)
class PushAnswer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


def answer_of(outcome: TaskOutcome, delivery: Delivery) -> PushAnswer:
    if isinstance(outcome, Finished):
        return PushAnswer(200, {"status": "finished", "note": outcome.note, "attempt": delivery.attempt})
    headers = {}
    if outcome.retry_after_seconds is not None:
        headers["Retry-After"] = str(max(0, int(outcome.retry_after_seconds)))
    body = {"status": "retry", "error": outcome.error, "attempt": delivery.attempt}
    return PushAnswer(RETRY_STATUS, body, headers)


def _retries(header: str | None) -> int:
    value = (header or "").strip()
    return int(value) if _COUNT.fullmatch(value) else 0
