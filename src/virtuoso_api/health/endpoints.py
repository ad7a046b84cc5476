"""``/health/live`` (the process answers) and ``/health/ready`` (every configured backend answers)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from virtuoso_api import __version__
from virtuoso_api.http.deps import ServicesDep
from virtuoso_api.http.errors import error_payload

router = APIRouter(prefix="/health", tags=["health"])
_STARTED = time.monotonic()
_CHECK_TIMEOUT_SECONDS = 3.0


@router.get("/live")
async def live() -> dict[str, Any]:
    return {"status": "ok", "version": __version__, "uptime_seconds": round(time.monotonic() - _STARTED, 1)}


@router.get("/ready", responses={503: {"description": "A backend does not answer; the body names it"}})
async def ready(request: Request, services: ServicesDep) -> JSONResponse:
    """200 when every configured backend answers, else 503 naming those that do not."""
    checks = {
        "documents": (services.documents.backend, services.documents.ping),
        "virtuoso": (services.virtuoso.mode, services.virtuoso.ping),
    }
    results: dict[str, dict[str, Any]] = {}
    for name, (backend, ping) in checks.items():
        started = time.perf_counter()
        try:
            await asyncio.wait_for(ping(), _CHECK_TIMEOUT_SECONDS)
            status, reason = "ok", None
        except TimeoutError:
            status, reason = "unavailable", f"no answer within {_CHECK_TIMEOUT_SECONDS:g}s"
        except Exception as exc:  # any failure of a backend is a "not ready", never a 500
            status, reason = "unavailable", str(exc)
        result: dict[str, Any] = {
            "backend": backend,
            "status": status,
            "latency_ms": round((time.perf_counter() - started) * 1000, 2),
        }
        if reason:
            result["reason"] = reason
        results[name] = result
    # Commands recorded while the store was unreachable, waiting in the local outbox.
    results["documents"]["pending_writes"] = await services.history.writer.pending()
    failing = [f"{name} ({r['backend']})" for name, r in results.items() if r["status"] != "ok"]
    if not failing:
        return JSONResponse({"status": "ready", "backends": results})
    body = error_payload(
        "service_unavailable",
        "not ready: " + ", ".join(failing) + " not answering",
        str(request.state.request_id),
    )
    return JSONResponse({"status": "not_ready", "backends": results, **body}, status_code=503)
