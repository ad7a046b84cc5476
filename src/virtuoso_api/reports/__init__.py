"""Run reports: one plain model (:class:`ReportModel`) rendered as result JSON, JUnit XML and a
self-contained HTML page, stored as blobs through the outbox, linked (signed) from the run's answer."""

from virtuoso_api.reports.model import (
    Counts,
    Link,
    Outcome,
    ReportKind,
    ReportModel,
    StepRow,
    StepStatus,
    counted,
)
from virtuoso_api.reports.service import ReportService, RunReports

__all__ = [
    "Counts",
    "Link",
    "Outcome",
    "ReportKind",
    "ReportModel",
    "ReportService",
    "RunReports",
    "StepRow",
    "StepStatus",
    "counted",
]
