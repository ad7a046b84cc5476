"""``/api/v1/commands``: run one command or a batch, and the catalogue of every command."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Header
from fastapi.responses import JSONResponse

from virtuoso_api.api_keys.auth import Reader, Writer
from virtuoso_api.api_keys.models import Principal
from virtuoso_api.commands.models import (
    BatchOutcome,
    BatchRequest,
    CommandRequest,
    ManagementOutcome,
    StepOutcome,
)
from virtuoso_api.commands.service import status_of
from virtuoso_api.commands.vocabulary import catalogue
from virtuoso_api.errors import VirtuosoApiError
from virtuoso_api.http.deps import ServicesDep
from virtuoso_api.idempotency import HEADER, StoredResponse
from virtuoso_api.services import Services

router = APIRouter(prefix="/commands", tags=["commands"])

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias=HEADER,
        description="Send the same key when retrying: the first answer comes back and nothing runs twice",
    ),
]


@router.get("")
async def list_commands(_: Reader) -> dict[str, Any]:
    """Every command with its arguments, flags and one example (generated from the parser's own
    definitions)."""
    entries = catalogue()
    return {"commands": entries, "count": len(entries)}


@router.post(
    "",
    status_code=201,
    response_model=StepOutcome | ManagementOutcome,
    responses={200: {"description": "A command that only reads (list-*, get-*)"}},
)
async def execute_command(
    body: CommandRequest, services: ServicesDep, caller: Writer, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """Run one command. A step command answers 201 with the step id and position Virtuoso gave it."""

    async def run() -> tuple[int, Any]:
        outcome = await services.commands.execute(caller, body)
        return status_of(outcome), outcome.model_dump(mode="json")

    return await _idempotent(services, caller, "commands", body, idempotency_key, run)


@router.post(
    "/batch",
    response_model=BatchOutcome,
    responses={207: {"description": "Some commands succeeded and some did not"}},
)
async def execute_batch(
    body: BatchRequest, services: ServicesDep, caller: Writer, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """Run commands in order: 200 when all succeeded, 207 when some did, the failure's status when
    none did. With ``stop_on_error`` (the default) the rest are skipped after a failure."""

    async def run() -> tuple[int, Any]:
        outcome = await services.commands.execute_batch(caller, body)
        return outcome.status_code, outcome.model_dump(mode="json")

    return await _idempotent(services, caller, "commands/batch", body, idempotency_key, run)


async def _idempotent(
    services: Services,
    caller: Principal,
    scope: str,
    body: CommandRequest | BatchRequest,
    key: str | None,
    run: Callable[[], Awaitable[tuple[int, Any]]],
) -> JSONResponse:
    """Run once per ``Idempotency-Key``. An answer is kept when the request changed something (any
    success); a request that changed nothing releases the key, so a retry really runs."""
    if key is None:
        status, payload = await run()
        return JSONResponse(payload, status_code=status)
    claim = await services.idempotency.claim(
        caller.user_id, key, scope=scope, payload=body.model_dump(mode="json")
    )
    if claim.replay is not None:
        return JSONResponse(
            claim.replay.body, status_code=claim.replay.status_code, headers={"Idempotent-Replayed": "true"}
        )
    try:
        status, payload = await run()
    except VirtuosoApiError:
        await services.idempotency.release(claim)
        raise
    changed = status < 300 or (isinstance(payload, dict) and payload.get("succeeded", 0) > 0)
    if changed:
        await services.idempotency.complete(claim, StoredResponse(status_code=status, body=payload))
    else:
        await services.idempotency.release(claim)
    return JSONResponse(payload, status_code=status)
