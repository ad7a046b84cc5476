"""``/health/live`` (the process answers) and ``/health/ready`` (every configured backend answers)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from virtuoso_api import __version__
from virtuoso_api.health.diagnosis import (
    Diagnosis,
    blobs_failure,
    documents_failure,
    events_failure,
    tasks_failure,
    virtuoso_failure,
)
from virtuoso_api.health.secrets import secrets_readiness
from virtuoso_api.http.deps import StateKey
from virtuoso_api.http.errors import error_payload
from virtuoso_api.kit.redact import redact
from virtuoso_api.services import Services

Diagnose = Callable[[Exception], Diagnosis]

logger = logging.getLogger(__name__)
#: The whole root: readiness asks every backend (health sits above the root and may know it).
SERVICES: Final = StateKey[Services]("services")

router = APIRouter(prefix="/health", tags=["health"])
_STARTED = time.monotonic()
_CHECK_TIMEOUT_SECONDS = 3.0


@router.get("/live")
async def live() -> dict[str, Any]:
    return {"status": "ok", "version": __version__, "uptime_seconds": round(time.monotonic() - _STARTED, 1)}


@router.get("/ready", responses={503: {"description": "A backend does not answer; the body names it"}})
async def ready(request: Request, services: Annotated[Services, Depends(SERVICES.get)]) -> JSONResponse:
    """200 when every configured backend answers, else 503 naming those that do not."""
    settings = services.settings
    documents = services.documents.backend
    events = services.events.capability
    blobs = services.storage.store.backend
    wait = _CHECK_TIMEOUT_SECONDS
    checks: dict[str, tuple[str, Callable[[], Awaitable[None]], Diagnose]] = {
        "documents": (
            documents,
            services.documents.ping,
            lambda exc: documents_failure(exc, documents, settings, waited=wait),
        ),
        "virtuoso": (
            services.virtuoso.mode,
            services.virtuoso.ping,
            lambda exc: virtuoso_failure(exc, waited=wait),
        ),
        "tasks": (
            services.tasks.backend,
            services.tasks.queue.ping,
            lambda exc: tasks_failure(exc, services.tasks.backend, settings, waited=wait),
        ),
        "events": (
            events.backend,
            events.bus.ping,
            lambda exc: events_failure(exc, events.backend, settings, waited=wait),
        ),
        "blobs": (
            blobs,
            services.storage.ping,
            lambda exc: blobs_failure(exc, blobs, settings, waited=wait),
        ),
    }
    results: dict[str, dict[str, Any]] = {}
    for name, (backend, ping, diagnose) in checks.items():
        started = time.perf_counter()
        diagnosis: Diagnosis | None = None
        try:
            await asyncio.wait_for(ping(), wait)
        except Exception as exc:  # any failure of a backend is a "not ready", never a 500
            diagnosis = diagnose(exc)
            # The text goes to the log only: this answer is public, and the text may quote a secret.
            logger.warning(
                "ready: %s (%s) failed: %s: %s", name, backend, type(exc).__name__, redact(str(exc))
            )
        result: dict[str, Any] = {
            "backend": backend,
            "status": "ok" if diagnosis is None else "unavailable",
            "latency_ms": round((time.perf_counter() - started) * 1000, 2),
        }
        if diagnosis is not None:
            result |= {"reason": diagnosis.reason, "check": diagnosis.check}
        results[name] = result
    # Commands recorded while the store was unreachable, waiting in the local outbox.
    results["documents"]["pending_writes"] = await services.outbox.log.pending("documents")
    # Jobs accepted while Cloud Tasks was unreachable: their enqueues wait in the outbox.
    results["tasks"]["pending_enqueues"] = await services.tasks.pending_enqueues()
    # Events accepted while the bus was unreachable, waiting in the outbox to be published in order.
    results["events"]["pending_events"] = await services.events.publisher.pending()
    # Reports and exports accepted while storage was unreachable, waiting in the outbox.
    results["blobs"]["pending_blobs"] = await services.storage.pending()
    results["secrets"] = await secrets_readiness(services.secrets, settings, wait=wait)
    # Secrets served stale within their grace period keep the service ready; the body says so.
    failing = [
        f"{name} ({r['backend']})" for name, r in results.items() if r["status"] not in ("ok", "stale")
    ]
    if not failing:
        return JSONResponse({"status": "ready", "backends": results})
    body = error_payload(
        "service_unavailable",
        "not ready: " + ", ".join(failing) + " not answering",
        str(request.state.request_id),
    )
    return JSONResponse({"status": "not_ready", "backends": results, **body}, status_code=503)
