"""Exporters that count what they lose.

The SDK's batch processors already export in the background and drop when their queue is full; an
export that fails is only logged by the SDK. These wrappers turn a failed or raising export into a
count on ``virtuoso.telemetry.dropped`` (spans by number, metrics by export), so an operator sees
from the local ``/metrics`` that Cloud Trace or Cloud Monitoring is not getting the data.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from opentelemetry.sdk.metrics.export import MetricExporter, MetricExportResult, MetricsData
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from virtuoso_api.kit.redact import redact

logger = logging.getLogger(__name__)

Dropped = Callable[[str, int], None]


class CountingSpanExporter(SpanExporter):
    def __init__(self, inner: SpanExporter, dropped: Dropped) -> None:
        self.inner = inner
        self._dropped = dropped
        self.exported = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        try:
            result = self.inner.export(spans)
        except Exception as exc:
            logger.warning("spans dropped: %s", redact(f"{type(exc).__name__}: {exc}")[:300])
            result = SpanExportResult.FAILURE
        if result is SpanExportResult.SUCCESS:
            self.exported += len(spans)
        else:
            self._dropped("spans", len(spans))
        return result

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.inner.force_flush(timeout_millis)


class CountingMetricExporter(MetricExporter):
    """Counts an export that reports failure; one that raises is logged and reported as a failure
    but not counted here: the only raising calls are the client's, which count themselves
    (``gcp_operations._Bounded``), once per lost write."""

    def __init__(self, inner: MetricExporter, dropped: Dropped) -> None:
        super().__init__(
            preferred_temporality=inner._preferred_temporality,
            preferred_aggregation=inner._preferred_aggregation,
        )
        self.inner = inner
        self._dropped = dropped
        self.exported = 0

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        try:
            result = self.inner.export(metrics_data, timeout_millis=timeout_millis, **kwargs)
        except Exception as exc:
            logger.warning("a metrics export was dropped: %s", redact(f"{type(exc).__name__}: {exc}")[:300])
            return MetricExportResult.FAILURE
        if result is MetricExportResult.SUCCESS:
            self.exported += 1
        else:
            self._dropped("metrics", 1)
        return result

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return self.inner.force_flush(timeout_millis)

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        self.inner.shutdown(timeout_millis=timeout_millis, **kwargs)
