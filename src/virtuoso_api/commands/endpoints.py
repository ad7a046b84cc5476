"""``/api/v1/commands``: run one command or a batch, and the catalogue of every command.

HTTP statuses are decided here, from the outcomes the command service answers: 201 when a command
created something in Virtuoso, 200 when it read; for a batch 200, 207 or the first failure's status.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import TypeAdapter

from virtuoso_api.api_keys.auth import ReadAccess, WriteAccess
from virtuoso_api.api_keys.models import Principal
from virtuoso_api.commands.models import (
    BatchOutcome,
    BatchRequest,
    CommandOutcome,
    CommandRequest,
    ManagementOutcome,
    StepOutcome,
)
from virtuoso_api.commands.service import CommandService
from virtuoso_api.commands.vocabulary import catalogue
from virtuoso_api.http.deps import StateKey
from virtuoso_api.http.openapi import (
    FORBIDDEN,
    JSON_BODY,
    UPSTREAM_REFUSED,
    ErrorEnvelope,
    declare,
    error,
)
from virtuoso_api.idempotency import OnceKey
from virtuoso_api.idempotency.deps import Idempotency, IdempotencyKey

COMMANDS: Final = StateKey[CommandService]("commands")
Commands = Annotated[CommandService, Depends(COMMANDS.get)]

router = APIRouter(prefix="/commands", tags=["commands"])

_NOT_FOUND = "The checkpoint is not in Virtuoso, or the named session does not exist"
_CONFLICT = (
    "The checkpoint's state does not allow it (no checkpoint given and no active session, or a "
    "position past the end), or a request with this Idempotency-Key is still running"
)


_COMMAND_RESPONSES: Final = declare(
    {200: {"description": "A command that only reads (list-*, get-*)", "model": ManagementOutcome}},
    FORBIDDEN,
    JSON_BODY,
    error(404, _NOT_FOUND),
    error(409, _CONFLICT),
    UPSTREAM_REFUSED,
)

# A batch none of whose commands succeeded answers the first failure's status with the batch itself;
# the request as a whole is refused in the envelope.
_FAILED_BATCH: Final = ErrorEnvelope | BatchOutcome
_BATCH_RESPONSES: Final = declare(
    {207: {"description": "Some commands succeeded and some did not", "model": BatchOutcome}},
    FORBIDDEN,
    JSON_BODY,
    error(404, f"None succeeded; the first failure: {_NOT_FOUND}", _FAILED_BATCH),
    error(409, f"None succeeded; the first failure: {_CONFLICT}", _FAILED_BATCH),
    error(422, "The body or a command is invalid (nothing ran), or none succeeded", _FAILED_BATCH),
    error(502, "None succeeded; the first failure: Virtuoso refused the request", _FAILED_BATCH),
    error(503, "A backend does not answer (the batch's results say which commands ran)", _FAILED_BATCH),
)

_OUTCOME: TypeAdapter[CommandOutcome] = TypeAdapter(CommandOutcome)
_BATCH: TypeAdapter[BatchOutcome] = TypeAdapter(BatchOutcome)


def status_of(outcome: CommandOutcome) -> int:
    return 201 if isinstance(outcome, StepOutcome) or outcome.created else 200


def batch_status(batch: BatchOutcome) -> int:
    if batch.failed == 0:
        return 200
    if batch.succeeded > 0:
        return 207
    first = next(item for item in batch.results if item.status == "failed")
    return int((first.error or {}).get("status", 500))


def _key(caller: Principal, scope: str, key: str | None, body: Any) -> OnceKey | None:
    return None if key is None else OnceKey(caller.user_id, scope, key, body.model_dump(mode="json"))


def _answer(payload: Any, status: int, replayed: bool) -> JSONResponse:
    return JSONResponse(
        payload, status_code=status, headers={"Idempotent-Replayed": "true"} if replayed else None
    )


@router.get("")
async def list_commands(_: ReadAccess) -> dict[str, Any]:
    """Every command with its arguments, flags and one example (generated from the parser's own
    definitions)."""
    entries = catalogue()
    return {"commands": entries, "count": len(entries)}


@router.post(
    "",
    status_code=201,
    response_model=StepOutcome | ManagementOutcome,
    responses=_COMMAND_RESPONSES,
)
async def execute_command(
    body: CommandRequest,
    commands: Commands,
    idempotency: Idempotency,
    caller: WriteAccess,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Run one command. A step command answers 201 with the step id and position Virtuoso gave it."""
    once = await idempotency.run_once(
        _key(caller, "commands", idempotency_key, body),
        lambda: commands.execute(caller, body),
        result_type=_OUTCOME,
    )
    return _answer(once.value.model_dump(mode="json"), status_of(once.value), once.replayed)


@router.post(
    "/batch",
    response_model=BatchOutcome,
    responses=_BATCH_RESPONSES,
)
async def execute_batch(
    body: BatchRequest,
    commands: Commands,
    idempotency: Idempotency,
    caller: WriteAccess,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Run commands in order: 200 when all succeeded, 207 when some did, the failure's status when
    none did. With ``stop_on_error`` (the default) the rest are skipped after a failure."""
    once = await idempotency.run_once(
        _key(caller, "commands/batch", idempotency_key, body),
        lambda: commands.execute_batch(caller, body),
        result_type=_BATCH,
        changed=lambda batch: batch.succeeded > 0,  # a batch that made nothing frees its key
    )
    batch = once.value
    for item in batch.results:
        if item.outcome is not None:
            item.status_code = status_of(item.outcome)
        elif item.error is not None:
            item.status_code = int(item.error.get("status", 500))
    return _answer(batch.model_dump(mode="json"), batch_status(batch), once.replayed)
