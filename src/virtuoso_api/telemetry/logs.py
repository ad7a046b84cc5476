"""Log lines that carry the trace: the ids of the current span on every record, and JSON output.

``LOG_FORMAT=json`` writes one JSON object a line (``severity``, ``message``, ``logger``, ``time``,
``trace_id``, ``span_id``, ``request_id``, ``exception``), the shape Cloud Logging reads from a
Cloud Run container: with ``GCP_PROJECT_ID`` set the trace is also named as Cloud Logging links it
(``logging.googleapis.com/trace``), so a log line opens its trace. The redacting filter
(``kit/redact.py``) still runs on every handler before this formatter.
"""

from __future__ import annotations

import copy
import json
import logging
import time
from collections.abc import Mapping
from typing import Any, Final

from opentelemetry.trace import format_span_id, format_trace_id, get_current_span

_SEVERITY: Final = {"WARNING": "WARNING", "CRITICAL": "CRITICAL", "ERROR": "ERROR", "INFO": "INFO"}


class TraceContextFilter(logging.Filter):
    """Puts ``trace_id`` and ``span_id`` (empty outside a span) on every record it sees."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = get_current_span().get_span_context()
        if context.is_valid:
            record.trace_id = format_trace_id(context.trace_id)
            record.span_id = format_span_id(context.span_id)
        else:
            record.trace_id = record.span_id = ""
        return True


class JsonFormatter(logging.Formatter):
    converter = time.gmtime  # type: ignore[assignment]  # the "Z" the timestamps end in is true whatever the machine's zone

    def __init__(self, project_id: str | None = None) -> None:
        super().__init__()
        self._project_id = project_id

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "severity": _SEVERITY.get(record.levelname, "DEBUG"),
            "logger": record.name,
            "message": record.getMessage(),
        }
        trace_id = getattr(record, "trace_id", "")
        if trace_id:
            entry["trace_id"] = trace_id
            entry["span_id"] = getattr(record, "span_id", "")
            if self._project_id:
                entry["logging.googleapis.com/trace"] = f"projects/{self._project_id}/traces/{trace_id}"
                entry["logging.googleapis.com/spanId"] = entry["span_id"]
        request_id = getattr(record, "request_id", None)
        if request_id:
            entry["request_id"] = request_id
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False, default=str)


def install(handlers: list[logging.Handler], *, json_lines: bool, project_id: str | None) -> None:
    """Trace ids on each handler's records; the JSON formatter too when ``json_lines``."""
    for handler in handlers:
        if not any(isinstance(existing, TraceContextFilter) for existing in handler.filters):
            handler.addFilter(TraceContextFilter())
        if json_lines:
            handler.setFormatter(JsonFormatter(project_id))


def with_trace(config: Mapping[str, Any], *, json_lines: bool, project_id: str | None) -> dict[str, Any]:
    """A copy of a ``dictConfig`` mapping (uvicorn's) whose handlers put trace ids on their records,
    and whose formatters write JSON when ``json_lines``."""
    copied: dict[str, Any] = copy.deepcopy(dict(config))
    copied.setdefault("filters", {})["trace"] = {"()": TraceContextFilter}
    for handler in copied.get("handlers", {}).values():
        handler.setdefault("filters", []).append("trace")
    if json_lines:
        for name in copied.get("formatters", {}):
            copied["formatters"][name] = {"()": JsonFormatter, "project_id": project_id}
    return copied
