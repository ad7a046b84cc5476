"""``virtuoso_api.gcp.get_monitoring_client()``: the seed's "Monitoring and Tracing" example as written,
locally (Prometheus text) and with USE_CLOUD_MONITORING (the in-process Cloud Operations stand-in)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.telemetry.conftest import parse, value
from virtuoso_api.gcp import close_monitoring_client
from virtuoso_api.telemetry import active

BACKENDS = ["local", "cloud"]


@pytest.fixture
async def forget_the_process_client() -> AsyncIterator[None]:
    yield
    await close_monitoring_client()


@pytest.fixture
def stand_in(request: pytest.FixtureRequest, backend: str) -> Iterator[object | None]:
    if backend == "local":
        yield None
        return
    pytest.importorskip("google.cloud.trace_v2", reason="the gcp extra is not installed")
    from tests.fixtures.cloud_operations import cloud_operations_stand_in

    with cloud_operations_stand_in() as running:
        yield running


@pytest.mark.usefixtures("forget_the_process_client")
@pytest.mark.parametrize("backend", BACKENDS)
async def test_the_seeds_monitoring_example_runs_as_written(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, backend: str, stand_in: object | None
) -> None:
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    if stand_in is not None:  # configured as a user would: environment variables, nothing else
        monkeypatch.setenv("USE_CLOUD_MONITORING", "true")
        monkeypatch.setenv("GCP_PROJECT_ID", "demo-monitoring")
        monkeypatch.setenv("CLOUD_OPERATIONS_EMULATOR_HOST", stand_in.address)  # type: ignore[attr-defined]
    suites: list[str] = []

    async def process_suite() -> None:
        suites.append("processed")

    spans = InMemorySpanExporter()
    # --- the seed's "Monitoring and Tracing", with app.gcp spelled virtuoso_api.gcp ---
    from virtuoso_api.gcp import get_monitoring_client

    monitoring = get_monitoring_client()

    # Track command execution
    await monitoring.track_command_execution(
        command="step-navigate", duration_ms=1234, success=True, user_id="user-123"
    )
    provider = active().tracer_provider  # what the client built; the test's window onto its spans
    assert provider is not None
    provider.add_span_processor(SimpleSpanProcessor(spans))

    # Use distributed tracing
    async with monitoring.trace_span("process_test_suite") as span:
        span.set_attribute("test.suite.id", "suite-123")
        # Process test suite
        await process_suite()
    # ---
    assert suites == ["processed"]
    (traced,) = spans.get_finished_spans()
    assert traced.name == "process_test_suite"
    assert traced.attributes == {"test.suite.id": "suite-123"}

    text = await monitoring.metrics_text()
    samples = parse(text)
    assert (
        value(samples, "virtuoso_commands_total", command="step-navigate", outcome="success", source="facade")
        == 1
    )
    assert value(samples, "virtuoso_command_duration_milliseconds_sum", command="step-navigate") == 1234
    assert "user-123" not in text  # the user is on the span and the log line, never a label

    await monitoring.record_error(RuntimeError("suite failed"), {"suite": "suite-123"}, user_id="user-123")
    await monitoring.flush()
    if stand_in is None:
        (line,) = (tmp_path / "errors.jsonl").read_text().splitlines()
        assert '"user_id": "user-123"' in line
        assert '"suite": "suite-123"' in line
        return
    names = {s.display_name.value for request in stand_in.spans for s in request.spans}  # type: ignore[attr-defined]
    assert {"command step-navigate", "process_test_suite"} <= names
    assert "workload.googleapis.com/virtuoso.commands" in stand_in.series_types()  # type: ignore[attr-defined]
    (reported,) = stand_in.errors  # type: ignore[attr-defined]
    assert "RuntimeError: suite failed" in reported.event.message
    assert reported.event.context.user == "user-123"


@pytest.mark.usefixtures("forget_the_process_client")
async def test_the_other_key_metrics_have_helpers(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    from virtuoso_api.gcp import get_monitoring_client

    monitoring = get_monitoring_client()
    await monitoring.track_api_request("get", "/items/{id}", 200, 12.5)
    await monitoring.track_session_event("created")
    await monitoring.track_cache(hit=True)
    await monitoring.track_cache(hit=False)
    await monitoring.set_queue_depth("virtuoso-command", waiting=7, running=2)
    await monitoring.track_message("webhooks", acked=False)
    await monitoring.track_published("command.executed")
    samples = parse(await monitoring.metrics_text())
    assert value(samples, "virtuoso_http_server_duration_milliseconds_count", http_route="/items/{id}") == 1
    assert value(samples, "virtuoso_session_events_total", event="created") == 1
    assert value(samples, "virtuoso_cache_requests_total", result="miss") == 1
    assert value(samples, "virtuoso_queue_depth", queue="virtuoso-command", state="waiting") == 7
    assert value(samples, "virtuoso_events_consumed_total", consumer="webhooks", outcome="nacked") == 1
    assert value(samples, "virtuoso_events_published_total", type="command.executed") == 1
