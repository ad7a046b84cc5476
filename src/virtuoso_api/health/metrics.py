"""``GET /metrics``: the service's metrics in Prometheus' text format, for an admin API key.

A scraper without a key reads the same text unauthenticated on ``METRICS_PORT`` (a port of its own,
kept off the public one). Gauges read from elsewhere (queue depths) are read again before answering.
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST

from virtuoso_api.api_keys.auth import AdminAccess
from virtuoso_api.errors import NotFound
from virtuoso_api.http.deps import StateKey
from virtuoso_api.http.openapi import FORBIDDEN, UNAUTHORIZED, UNAVAILABLE, declare, error
from virtuoso_api.telemetry import Telemetry

TELEMETRY: Final = StateKey[Telemetry]("telemetry")

router = APIRouter(tags=["health"])


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text format 0.0.4"},
        **declare(UNAUTHORIZED, FORBIDDEN, error(404, "TELEMETRY_ENABLED is off"), UNAVAILABLE),
    },
)
async def metrics(_: AdminAccess, telemetry: Annotated[Telemetry, Depends(TELEMETRY.get)]) -> Response:
    """Every metric of README "Telemetry" (needs the `admin` scope)."""
    if not telemetry.enabled:
        raise NotFound("telemetry is off (TELEMETRY_ENABLED=false): there are no metrics")
    await telemetry.refresh()
    return Response(telemetry.prometheus_text(), media_type=CONTENT_TYPE_LATEST)
