"""Telemetry: OpenTelemetry metrics and traces, the error log, and trace context across hops.

Built by :func:`virtuoso_api.services.telemetry.build_telemetry`: locally the metrics are read at
``/metrics`` (Prometheus), spans give log lines their trace ids and travel into Virtuoso calls, jobs,
events and webhooks, and unhandled errors go to ``DATA_DIR/errors.jsonl``; with
``USE_CLOUD_MONITORING`` metrics also go to Cloud Monitoring, spans to Cloud Trace and errors to
Error Reporting (``gcp_operations.py``). Code records through :func:`active`.
"""

from __future__ import annotations

from virtuoso_api.telemetry.errors import ErrorReport, ErrorReporting, LocalErrorLog
from virtuoso_api.telemetry.instruments import Instruments
from virtuoso_api.telemetry.propagation import current_traceparent, inject_into, span
from virtuoso_api.telemetry.runtime import DISABLED, Telemetry, activated, active

__all__ = [
    "DISABLED",
    "ErrorReport",
    "ErrorReporting",
    "Instruments",
    "LocalErrorLog",
    "Telemetry",
    "activated",
    "active",
    "current_traceparent",
    "inject_into",
    "span",
]
