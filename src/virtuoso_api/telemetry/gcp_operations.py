"""The Google Cloud side of telemetry (USE_CLOUD_MONITORING): Cloud Trace, Cloud Monitoring, Error
Reporting and Cloud Profiler. Imported only when the flag is on: these libraries are the ``gcp`` extra
(the profiler is the ``profiler`` extra: it compiles a native agent when installed).

Google marks both OpenTelemetry exporters deprecated (1.15) in favour of OTLP sent to its Telemetry
API (telemetry.googleapis.com). They still write through the Trace and Monitoring APIs that this
service's stand-in tests speak, so they are kept, their DeprecationWarning silenced where they are
made; moving to OTLP is the README's open item.

Each client is given a short deadline and no retry: the exporters run on the SDK's background
threads, and an unreachable Google must cost one short wait per batch, then a counted drop, not
minutes per batch (the clients' defaults retry for up to two minutes). With
``CLOUD_OPERATIONS_EMULATOR_HOST`` every client talks plain gRPC to that address with no credentials
(the tests' in-process stand-in).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import warnings
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Final

from google.cloud.errorreporting_v1beta1 import (
    ErrorContext,
    HttpRequestContext,
    ReportedErrorEvent,
    ReportErrorsServiceClient,
    ServiceContext,
)
from google.cloud.errorreporting_v1beta1.services.report_errors_service.transports import (
    ReportErrorsServiceGrpcTransport,
)
from google.cloud.monitoring_v3 import MetricServiceClient
from google.cloud.monitoring_v3.services.metric_service.transports import MetricServiceGrpcTransport
from google.cloud.trace_v2 import TraceServiceClient
from google.cloud.trace_v2.services.trace_service.transports import TraceServiceGrpcTransport
from opentelemetry.exporter.cloud_monitoring import CloudMonitoringMetricsExporter
from opentelemetry.exporter.cloud_trace import CloudTraceSpanExporter

from virtuoso_api.telemetry.errors import ErrorReport

logger = logging.getLogger(__name__)

#: The deadline of one call to Trace, Monitoring or Error Reporting.
CALL_TIMEOUT_SECONDS: Final = 5.0
_DEADLINE_NO_RETRY: Final[dict[str, Any]] = {"timeout": CALL_TIMEOUT_SECONDS, "retry": None}
_BOUNDED: Final = frozenset(
    {"batch_write_spans", "create_time_series", "create_metric_descriptor", "report_error_event"}
)


class _Bounded:
    """A Google client whose write calls get a deadline and no retry, whatever their caller passes
    (the OpenTelemetry exporters pass neither), and whose failed writes are counted by ``failed``:
    the Monitoring exporter skips a metric whose descriptor it could not create and still reports
    success, so only the client sees that data was lost."""

    def __init__(self, client: Any, failed: Callable[[], None] | None = None) -> None:
        self._client = client
        self._failed = failed

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if name not in _BOUNDED:
            return attribute
        call = functools.partial(attribute, **_DEADLINE_NO_RETRY)
        if self._failed is None:
            return call

        def counted(*args: Any, **kwargs: Any) -> Any:
            try:
                return call(*args, **kwargs)
            except Exception:
                assert self._failed is not None
                self._failed()
                raise

        return counted


@contextlib.contextmanager
def _deprecated() -> Iterator[None]:
    """Silences the exporters' own deprecation notice (module docstring), nothing else."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*Exporter is deprecated", category=DeprecationWarning)
        yield


def _channel(endpoint: str) -> Any:
    import grpc  # type: ignore[import-untyped]

    return grpc.insecure_channel(endpoint)


def trace_exporter(project_id: str, endpoint: str | None) -> CloudTraceSpanExporter:
    """Raises google.auth's DefaultCredentialsError when there are no credentials."""
    if endpoint:
        client = TraceServiceClient(transport=TraceServiceGrpcTransport(channel=_channel(endpoint)))
    else:
        client = TraceServiceClient()
    with _deprecated():
        return CloudTraceSpanExporter(  # type: ignore[no-untyped-call]
            project_id=project_id, client=_Bounded(client)
        )


def metrics_exporter(
    project_id: str, endpoint: str | None, failed: Callable[[], None]
) -> CloudMonitoringMetricsExporter:
    """``failed`` is called for each write Cloud Monitoring did not take (a metric's data lost)."""
    if endpoint:
        client = MetricServiceClient(transport=MetricServiceGrpcTransport(channel=_channel(endpoint)))
    else:
        client = MetricServiceClient()
    # add_unique_identifier: every instance writes its own series; two Cloud Run instances writing
    # one cumulative series would be refused ("points written too frequently") or interleave.
    with _deprecated():
        return CloudMonitoringMetricsExporter(
            project_id=project_id,
            client=_Bounded(client, failed),  # type: ignore[arg-type]
            add_unique_identifier=True,
        )


class ErrorReportingSink:
    """Reports to Error Reporting (``projects.events.report``), grouped by the stack it carries."""

    def __init__(self, project_id: str, endpoint: str | None, *, service: str, version: str) -> None:
        if endpoint:
            client = ReportErrorsServiceClient(
                transport=ReportErrorsServiceGrpcTransport(channel=_channel(endpoint))
            )
        else:
            client = ReportErrorsServiceClient()
        self._client = _Bounded(client)
        self._project = f"projects/{project_id}"
        self._service = ServiceContext(service=service, version=version)

    def write(self, report: ErrorReport) -> None:
        self._client.report_error_event(project_name=self._project, event=self.event_of(report))

    def event_of(self, report: ErrorReport) -> ReportedErrorEvent:
        context: Mapping[str, Any] = report.context
        http = HttpRequestContext(
            method=str(context.get("http_method") or ""),
            url=str(context.get("path") or ""),
            response_status_code=500 if context.get("http_method") else 0,
        )
        return ReportedErrorEvent(
            service_context=self._service,
            # Error Reporting reads the stack from the message: it must start with the traceback.
            message=report.stack or f"{report.type}: {report.message}",
            context=ErrorContext(http_request=http, user=str(context.get("user_id") or "")),
        )

    def close(self) -> None:
        self._client.transport.close()


def start_profiler(*, service: str, version: str, project_id: str) -> bool:
    """Start Cloud Profiler's agent; ``False`` (with one warning) when it is not installed or
    refuses to start (no credentials, an unsupported platform)."""
    try:
        import googlecloudprofiler  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        logger.warning(
            "CLOUD_PROFILER_ENABLED is on but the profiler is not installed: "
            "pip install 'virtuoso-api[profiler]'; running without it"
        )
        return False
    try:
        googlecloudprofiler.start(service=service, service_version=version, project_id=project_id)
    except Exception as exc:  # the agent raises plain exceptions for every refusal
        logger.warning("Cloud Profiler did not start (%s); running without it", exc)
        return False
    return True
