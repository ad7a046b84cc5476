"""The Google Cloud side of telemetry (USE_CLOUD_MONITORING): Cloud Trace, Cloud Monitoring, Error
Reporting and Cloud Profiler. Imported only when the flag is on: these libraries are the ``gcp`` extra
(the profiler is the ``profiler`` extra: it compiles a native agent when installed).

Each client is given a short deadline and no retry: the exporters run on the SDK's background
threads, and an unreachable Google must cost one short wait per batch, then a counted drop, not
minutes per batch (the clients' defaults retry for up to two minutes). With
``CLOUD_OPERATIONS_EMULATOR_HOST`` every client talks plain gRPC to that address with no credentials
(the tests' in-process stand-in).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
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
_BOUNDED: Final = frozenset(
    {"batch_write_spans", "create_time_series", "create_metric_descriptor", "report_error_event"}
)


class _Bounded:
    """A Google client whose write calls get a deadline and no retry, whatever their caller passes
    (the OpenTelemetry exporters pass neither)."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if name in _BOUNDED:
            return functools.partial(attribute, timeout=CALL_TIMEOUT_SECONDS, retry=None)
        return attribute


def _channel(endpoint: str) -> Any:
    import grpc  # type: ignore[import-untyped]

    return grpc.insecure_channel(endpoint)


def trace_exporter(project_id: str, endpoint: str | None) -> CloudTraceSpanExporter:
    """Raises google.auth's DefaultCredentialsError when there are no credentials."""
    if endpoint:
        client = TraceServiceClient(transport=TraceServiceGrpcTransport(channel=_channel(endpoint)))
    else:
        client = TraceServiceClient()
    return CloudTraceSpanExporter(  # type: ignore[no-untyped-call]
        project_id=project_id, client=_Bounded(client)
    )


def metrics_exporter(project_id: str, endpoint: str | None) -> CloudMonitoringMetricsExporter:
    if endpoint:
        client = MetricServiceClient(transport=MetricServiceGrpcTransport(channel=_channel(endpoint)))
    else:
        client = MetricServiceClient()
    # add_unique_identifier: every instance writes its own series; two Cloud Run instances writing
    # one cumulative series would be refused ("points written too frequently") or interleave.
    return CloudMonitoringMetricsExporter(
        project_id=project_id,
        client=_Bounded(client),  # type: ignore[arg-type]
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
