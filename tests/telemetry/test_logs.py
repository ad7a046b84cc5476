"""JSON log lines carry the trace and span of the work that logged them, with secrets still masked."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import format_span_id, format_trace_id

from virtuoso_api.kit.redact import install_filter, register_secret
from virtuoso_api.telemetry import logs

SECRET = "tok-logs-canary-0c1d"


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    text = io.StringIO()
    handler = logging.StreamHandler(text)
    install_filter([handler])  # as serve does: redaction first, then the trace ids and JSON
    logs.install([handler], json_lines=True, project_id="demo-project")
    logger = logging.getLogger("tests.telemetry.logs")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield text
    logger.removeHandler(handler)


def test_a_line_inside_a_span_names_its_trace_and_masks_secrets(stream: io.StringIO) -> None:
    register_secret(SECRET)
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("work") as span:
        logging.getLogger("tests.telemetry.logs").warning("calling with %s", SECRET)
    line = json.loads(stream.getvalue())
    context = span.get_span_context()
    assert line["trace_id"] == format_trace_id(context.trace_id)
    assert line["span_id"] == format_span_id(context.span_id)
    assert line["logging.googleapis.com/trace"] == f"projects/demo-project/traces/{line['trace_id']}"
    assert line["severity"] == "WARNING"
    assert line["message"] == "calling with ***"
    assert line["time"].endswith("Z")


def test_a_line_outside_any_span_has_no_trace_and_keeps_its_exception(stream: io.StringIO) -> None:
    try:
        raise ValueError("broken")
    except ValueError:
        logging.getLogger("tests.telemetry.logs").exception("it failed")
    line = json.loads(stream.getvalue())
    assert "trace_id" not in line
    assert line["severity"] == "ERROR"
    assert "ValueError: broken" in line["exception"]
