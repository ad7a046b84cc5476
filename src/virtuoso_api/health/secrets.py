"""The ``secrets`` part of ``/health/ready``: served fresh, served stale (still ready), or not served.

While the secret store is unreachable the service keeps serving the secrets it read last, for
``SECRET_STALE_GRACE_SECONDS`` past their TTL; readiness then answers 200 with ``"status": "stale"``,
the secrets concerned and until when they are served, so an operator sees the outage before it bites.
Past the grace period, or for a secret never read, it is ``unavailable`` (503). Secret names are not
secret; values never appear here.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from virtuoso_api.config import Settings
from virtuoso_api.kit.redact import redact
from virtuoso_api.kit.timestamps import format_timestamp
from virtuoso_api.secrets import SecretsService

logger = logging.getLogger(__name__)


def _check(settings: Settings) -> str:
    if not settings.use_secret_manager:
        return "DATA_DIR"
    return "SECRET_MANAGER_EMULATOR_HOST" if settings.secret_manager_emulator_host else "GCP_PROJECT_ID"


async def secrets_readiness(secrets: SecretsService, settings: Settings, *, wait: float) -> dict[str, Any]:
    result: dict[str, Any] = {"backend": secrets.backend}
    started = time.perf_counter()
    try:
        health = await asyncio.wait_for(secrets.health(), wait)
    except Exception as exc:  # a failing check is a "not ready", never a 500
        logger.warning("ready: secrets failed: %s: %s", type(exc).__name__, redact(str(exc)))
        reason = f"no answer within {wait:g}s" if isinstance(exc, TimeoutError) else "the check failed"
        return result | {
            "status": "unavailable",
            "latency_ms": _since(started),
            "reason": reason,
            "check": _check(settings),
        }
    result |= {"status": health.status, "latency_ms": _since(started), "in_use": health.in_use}
    if health.stale:
        result["serving_stale"] = sorted(entry.key for entry in health.stale if entry.served_until)
        ends = [entry.served_until for entry in health.stale if entry.served_until is not None]
        if ends:
            result["stale_until"] = format_timestamp(min(ends))
        unserved = sorted(entry.key for entry in health.stale if entry.served_until is None)
        if unserved or health.status == "unavailable":
            result["reason"] = "the secret store does not answer and a secret in use cannot be served"
        else:
            result["reason"] = "the secret store does not answer; the last values read are served"
        result["check"] = _check(settings)
    return result


def _since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
