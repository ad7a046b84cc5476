"""The running telemetry: a tracer, the instruments and the error reporting, and the process's one.

The OpenTelemetry SDK keeps a global provider that can be set once per process; this service builds
its providers per :func:`~virtuoso_api.services.telemetry.build_telemetry` instead (tests and the
overhead benchmark start several services, with telemetry on and off, in one process) and makes the
one being served the process's :func:`active` telemetry while it runs. Code that records reads
``active()`` when it records: with nothing built it gets :data:`DISABLED`, whose tracer and meter are
the SDK's no-ops.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.metrics import NoOpMeter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import NoOpTracer, Tracer
from prometheus_client import CollectorRegistry, generate_latest

from virtuoso_api.kit.redact import redact
from virtuoso_api.telemetry.errors import ErrorReport, ErrorReporting
from virtuoso_api.telemetry.instruments import Instruments

logger = logging.getLogger(__name__)


@dataclass
class Telemetry:
    enabled: bool
    tracer: Tracer
    metrics: Instruments
    #: Unhandled errors go here (None: telemetry is off, the log line is all there is).
    errors: ErrorReporting | None = None
    #: What ``/metrics`` renders (None: telemetry is off).
    registry: CollectorRegistry | None = None
    #: ``cloud`` with USE_CLOUD_MONITORING, else ``local``.
    backend: str = "local"
    #: The project whose Cloud Trace log lines point into (``logging.googleapis.com/trace``).
    project_id: str | None = None
    #: Refreshes the gauges read from elsewhere (queue depths) before a scrape; set by the root.
    refreshers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    #: The SDK providers (None when off): to instrument a client, flush, or add a processor in tests.
    tracer_provider: TracerProvider | None = None
    meter_provider: MeterProvider | None = None

    def dropped(self, signal: str, count: int = 1) -> None:
        self.metrics.dropped.add(count, {"signal": signal})

    def report_error(
        self, exc: BaseException, context: Mapping[str, Any] | None = None, *, where: str = "http"
    ) -> ErrorReport | None:
        """Count ``exc`` by type and hand it to the error log or Error Reporting (in the background)."""
        self.metrics.error(type(exc).__name__, where)
        return None if self.errors is None else self.errors.report(exc, context)

    async def refresh(self) -> None:
        """Read the gauges that live elsewhere (queue depths) now; a failing reading keeps the last."""
        for refresher in self.refreshers:
            try:
                await refresher()
            except Exception as exc:
                logger.warning("a metrics reading failed: %s", redact(f"{type(exc).__name__}: {exc}")[:200])

    def prometheus_text(self) -> bytes:
        return b"" if self.registry is None else generate_latest(self.registry)


DISABLED = Telemetry(enabled=False, tracer=NoOpTracer(), metrics=Instruments(NoOpMeter("virtuoso-api")))

_active: Telemetry = DISABLED


def active() -> Telemetry:
    """The telemetry of the service this process runs (:data:`DISABLED` when none is built)."""
    return _active


@contextlib.contextmanager
def activated(telemetry: Telemetry) -> Iterator[Telemetry]:
    """Make ``telemetry`` the process's for the block, then put back what was there."""
    global _active
    previous, _active = _active, telemetry
    try:
        yield telemetry
    finally:
        _active = previous
