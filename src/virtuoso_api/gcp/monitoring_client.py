"""``monitoring_client``: the seed's Cloud Operations API::

    from virtuoso_api.gcp import get_monitoring_client

    monitoring = get_monitoring_client()
    await monitoring.track_command_execution(
        command="step-navigate", duration_ms=1234, success=True, user_id="user-123"
    )
    async with monitoring.trace_span("process_test_suite") as span:
        span.set_attribute("test.suite.id", "suite-123")
        await process_suite()

The same instruments the service records (README "Telemetry"), so a script's commands count with the
server's. Locally they are read as Prometheus text (:meth:`MonitoringClient.metrics_text`, or the
server's ``/metrics`` when the script runs inside it); with ``USE_CLOUD_MONITORING`` they go to Cloud
Monitoring, spans to Cloud Trace and :meth:`record_error` to Error Reporting. A user id goes on the
span and the log line, never on a metric (one series per user would be unbounded).

Inside a process that already serves the API the client records into that service's telemetry;
elsewhere it builds its own on first use and closes it (flushing what is left) on :meth:`close`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any

from opentelemetry.trace import Span

from virtuoso_api.config import Settings
from virtuoso_api.gcp._facade import FacadeClient, OnePerProcess
from virtuoso_api.services.telemetry import build_telemetry
from virtuoso_api.telemetry import Telemetry, active, span
from virtuoso_api.telemetry.errors import ErrorReport

__all__ = ["MonitoringClient", "close_monitoring_client", "get_monitoring_client"]

logger = logging.getLogger(__name__)


class MonitoringClient(FacadeClient[Telemetry]):
    def _opening(self, settings: Settings) -> AbstractAsyncContextManager[Telemetry]:
        running = active()
        if running.enabled:  # a service runs in this process: one set of metrics, not two
            return contextlib.nullcontext(running)
        return build_telemetry(settings)

    async def track_command_execution(
        self,
        command: str,
        duration_ms: float,
        success: bool,
        user_id: str | None = None,
        *,
        source: str = "facade",
    ) -> None:
        """Count a command and its duration (labels: command, outcome, source), with a span and a
        log line that name the user."""
        telemetry = await self._open()
        telemetry.metrics.command(command, success=success, duration_ms=duration_ms, source=source)
        attributes = {"command": command, "command.duration_ms": duration_ms, "command.success": success}
        if user_id is not None:
            attributes["user.id"] = user_id
        with span(f"command {command}", attributes=attributes):
            logger.info(
                "command %s %s in %.0f ms (user %s)",
                command,
                "succeeded" if success else "failed",
                duration_ms,
                user_id or "-",
            )

    @contextlib.asynccontextmanager
    async def trace_span(self, name: str, attributes: Mapping[str, Any] | None = None) -> AsyncIterator[Span]:
        """A span around the block, the child of the current one (one trace with the request or job
        that runs it); an exception leaving the block is recorded on it."""
        await self._open()
        with span(name, attributes=attributes) as current:
            yield current

    async def record_error(
        self, error: BaseException, context: Mapping[str, Any] | None = None, *, user_id: str | None = None
    ) -> ErrorReport | None:
        """Report ``error`` (counted by type; to the error log or Error Reporting, in the background)."""
        telemetry = await self._open()
        details = {**(context or {}), **({"user_id": user_id} if user_id else {})}
        return telemetry.report_error(error, details, where="facade")

    # -- the seed's other key metrics ------------------------------------------------------------------

    async def track_api_request(self, method: str, route: str, status_code: int, duration_ms: float) -> None:
        """A request served elsewhere (``route`` a template such as ``/items/{id}``, never a raw path)."""
        telemetry = await self._open()
        labels: dict[str, str | int] = {
            "http.request.method": method.upper(),
            "http.route": route,
            "http.response.status_code": status_code,
        }
        telemetry.metrics.requests.record(duration_ms, labels)

    async def track_session_event(self, event: str) -> None:
        """``created``, ``ended``...: session activity."""
        (await self._open()).metrics.sessions.add(1, {"event": event})

    async def track_cache(self, hit: bool) -> None:
        (await self._open()).metrics.cache.add(1, {"result": "hit" if hit else "miss"})

    async def set_queue_depth(
        self, queue: str, waiting: int, running: int = 0, backend: str = "cloud-tasks"
    ) -> None:
        telemetry = await self._open()
        for state, count in (("waiting", waiting), ("running", running)):
            telemetry.metrics.queue_depth.set(count, {"queue": queue, "state": state, "backend": backend})

    async def track_message(self, consumer: str, *, acked: bool = True) -> None:
        """A Pub/Sub message handled by ``consumer`` (acked or nacked)."""
        outcome = "acked" if acked else "nacked"
        (await self._open()).metrics.consumed.add(1, {"consumer": consumer, "outcome": outcome})

    async def track_published(self, event_type: str) -> None:
        (await self._open()).metrics.published.add(1, {"type": event_type})

    # -- reading and flushing -------------------------------------------------------------------------

    async def metrics_text(self) -> str:
        """Every metric in Prometheus' text format (what ``/metrics`` answers)."""
        telemetry = await self._open()
        await telemetry.refresh()
        return telemetry.prometheus_text().decode()

    async def flush(self) -> None:
        """Send what the background exporters hold now (spans, metrics, error reports)."""
        telemetry = await self._open()

        def flush() -> None:
            if telemetry.tracer_provider is not None:
                telemetry.tracer_provider.force_flush()
            if telemetry.meter_provider is not None:
                telemetry.meter_provider.force_flush()
            if telemetry.errors is not None:
                telemetry.errors.flush()

        await asyncio.to_thread(flush)


_process_client = OnePerProcess(MonitoringClient)


def get_monitoring_client() -> MonitoringClient:
    """The process's client, built on first call from the environment (``Settings``)."""
    return _process_client.get()


async def close_monitoring_client() -> None:
    """Close the process's client (if any) and forget it; the next getter call builds a new one."""
    await _process_client.close()
