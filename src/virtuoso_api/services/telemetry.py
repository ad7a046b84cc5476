"""``build_telemetry``: the OpenTelemetry providers, the Prometheus registry, the error log, and on
Google Cloud the exporters; made the process's active telemetry while the services run.

Locally: a MeterProvider read by the Prometheus exporter into a registry of this service's own
(``/metrics``, and ``METRICS_PORT``), a TracerProvider without an exporter (spans give log lines
their ids and carry the trace into Virtuoso calls, jobs, events and webhooks), and unhandled errors
in ``DATA_DIR/errors.jsonl``. With ``USE_CLOUD_MONITORING`` the same providers also export: metrics
every ``METRICS_EXPORT_INTERVAL_SECONDS`` to Cloud Monitoring, spans in batches to Cloud Trace (both
on the SDK's background threads, counting what they drop), errors to Error Reporting, and Cloud
Profiler starts when ``CLOUD_PROFILER_ENABLED``. Without credentials that is one warning and the
local behaviour, never a failed start.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
from collections.abc import AsyncIterator

from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from prometheus_client import CollectorRegistry, start_http_server

from virtuoso_api import __version__
from virtuoso_api.config import Settings
from virtuoso_api.errors import Misconfigured
from virtuoso_api.infra.tasks import Tasks
from virtuoso_api.telemetry import DISABLED, ErrorReporting, LocalErrorLog, Telemetry, activated
from virtuoso_api.telemetry.errors import ErrorSink
from virtuoso_api.telemetry.exporting import CountingMetricExporter, CountingSpanExporter
from virtuoso_api.telemetry.instruments import Instruments

logger = logging.getLogger(__name__)

SERVICE_NAME = "virtuoso-api"


def check_libraries(settings: Settings) -> None:
    if not (settings.telemetry_enabled and settings.use_cloud_monitoring):
        return
    try:
        importlib.import_module("opentelemetry.exporter.cloud_trace")
        importlib.import_module("google.cloud.errorreporting_v1beta1")
    except ImportError as exc:
        raise Misconfigured(
            "USE_CLOUD_MONITORING is on but the Google Cloud libraries are missing: "
            "pip install 'virtuoso-api[gcp]'"
        ) from exc


@contextlib.asynccontextmanager
async def build_telemetry(settings: Settings) -> AsyncIterator[Telemetry]:
    if not settings.telemetry_enabled:
        with activated(DISABLED):
            yield DISABLED
        return
    check_libraries(settings)
    resource = Resource.create(
        {
            "service.name": SERVICE_NAME,
            "service.version": __version__,
            "deployment.environment": settings.environment.value,
        }
    )
    registry = CollectorRegistry(auto_describe=True)
    readers: list[MetricReader] = [PrometheusMetricReader(registry=registry)]
    processors: list[SpanProcessor] = []
    sink: ErrorSink = LocalErrorLog(settings.data_dir / "errors.jsonl")
    # The exporters are made before the instruments that count their drops: they count through this.
    drops = _Drops()
    cloud = _google(settings, readers, processors, drops) if settings.use_cloud_monitoring else None
    if cloud is not None:
        sink = cloud
    # shutdown_on_exit=False: they are shut down when the services close; the SDK's atexit hook would
    # keep every provider a process ever built (tests build hundreds) alive until it exits.
    meter_provider = MeterProvider(metric_readers=readers, resource=resource, shutdown_on_exit=False)
    tracer_provider = TracerProvider(
        resource=resource,
        sampler=ParentBased(TraceIdRatioBased(settings.trace_sampling_ratio)),
        shutdown_on_exit=False,
    )
    for processor in processors:
        tracer_provider.add_span_processor(processor)
    telemetry = Telemetry(
        enabled=True,
        tracer=tracer_provider.get_tracer("virtuoso_api"),
        metrics=Instruments(meter_provider.get_meter("virtuoso_api", __version__)),
        registry=registry,
        backend="cloud" if cloud else "local",
        project_id=settings.gcp_project_id,
        tracer_provider=tracer_provider,
        meter_provider=meter_provider,
    )
    drops.telemetry = telemetry
    telemetry.errors = ErrorReporting(sink, dropped=lambda count: telemetry.dropped("errors", count))
    server = None
    if settings.metrics_port is not None:
        server, _ = start_http_server(settings.metrics_port, addr=settings.host, registry=registry)
    try:
        with activated(telemetry):
            yield telemetry
    finally:
        if server is not None:
            server.shutdown()
            server.server_close()
        await _close(telemetry, settings.shutdown_flush_seconds)


class _Drops:
    telemetry: Telemetry | None = None

    def __call__(self, signal: str, count: int) -> None:
        if self.telemetry is not None:
            self.telemetry.dropped(signal, count)


def _google(
    settings: Settings, readers: list[MetricReader], processors: list[SpanProcessor], dropped: _Drops
) -> ErrorSink | None:
    """Add the Google exporters; the Error Reporting sink, or ``None`` (one warning) when the
    clients cannot be made (no credentials)."""
    from virtuoso_api.telemetry import gcp_operations as google

    assert settings.gcp_project_id  # Settings refuse USE_CLOUD_MONITORING without it
    project, endpoint = settings.gcp_project_id, settings.cloud_operations_emulator_host
    try:
        spans = google.trace_exporter(project, endpoint)
        metrics = google.metrics_exporter(project, endpoint, lambda: dropped("metrics", 1))
        sink = google.ErrorReportingSink(project, endpoint, service=SERVICE_NAME, version=__version__)
    except Exception as exc:  # google.auth's DefaultCredentialsError, and any refusal to build
        logger.warning(
            "USE_CLOUD_MONITORING is on but the Google clients could not be made (%s): metrics stay "
            "at /metrics, spans and errors are kept locally only",
            str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__,
        )
        return None
    processors.append(BatchSpanProcessor(CountingSpanExporter(spans, dropped)))
    readers.append(
        PeriodicExportingMetricReader(
            CountingMetricExporter(metrics, dropped),
            export_interval_millis=settings.metrics_export_interval_seconds * 1000,
            export_timeout_millis=google.CALL_TIMEOUT_SECONDS * 4 * 1000,
        )
    )
    if settings.cloud_profiler_enabled:
        google.start_profiler(service=SERVICE_NAME, version=__version__, project_id=project)
    return sink


async def _close(telemetry: Telemetry, budget: float) -> None:
    """Flush and stop within ``budget`` seconds (SHUTDOWN_FLUSH_SECONDS: Cloud Run's SIGKILL follows);
    what an exporter Google does not answer still holds then is dropped."""

    def close() -> None:
        if telemetry.errors is not None:
            telemetry.errors.close(budget)
        if telemetry.tracer_provider is not None:
            telemetry.tracer_provider.shutdown()
        if telemetry.meter_provider is not None:
            telemetry.meter_provider.shutdown(timeout_millis=budget * 1000)

    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.to_thread(close), budget)


def record_queue_depths(telemetry: Telemetry, tasks: Tasks) -> None:
    """Keep ``virtuoso.queue.depth`` read from the task queue (before each scrape, and periodically)."""

    async def read() -> None:
        report = await tasks.queue.report()
        for depth in report.queues or ():
            for state, count in (
                ("waiting", depth.waiting),
                ("running", depth.running),
                ("failed", depth.failed),
            ):
                telemetry.metrics.queue_depth.set(
                    count, {"queue": depth.queue, "state": state, "backend": report.backend}
                )

    if telemetry.enabled:
        telemetry.refreshers.append(read)
