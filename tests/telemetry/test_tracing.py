"""One trace follows a request into Virtuoso, into its job, and into the webhook delivery the job's
end causes; observed through the SDK's in-memory span exporter and the receiver's own headers."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, format_trace_id

from tests.fixtures.tasks_emulator import tasks_emulator
from tests.jobs.test_cloud_tasks import follow, on_cloud_tasks
from tests.support import MakeKey, auth
from tests.webhooks.receiver import receiving
from virtuoso_api.sandbox import SEED

NAVIGATE = {"command": "step-navigate", "args": ["to", "https://example.com"]}
CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


async def test_one_trace_links_the_request_its_job_and_its_webhook_delivery(
    client: httpx.AsyncClient, make_key: MakeKey, spans: InMemorySpanExporter
) -> None:
    writer = auth(await make_key(name="author"))
    async with receiving() as receiver:
        made = await client.post(
            "/api/v1/webhooks", json={"url": receiver.url, "events": ["job.completed"]}, headers=writer
        )
        assert made.status_code == 201
        # The caller's own trace: the service continues it rather than starting one of its own.
        traceparent = f"00-{CALLER_TRACE}-00f067aa0ba902b7-01"
        queued = await client.post(
            "/api/v1/commands/async",
            json={**NAVIGATE, "checkpoint_id": SEED.checkpoint_id},
            headers={**writer, "traceparent": traceparent},
        )
        assert queued.status_code == 202
        (delivery,) = await receiver.wait_for(1)

    finished = spans.get_finished_spans()
    by_name = {span.name: span for span in finished}
    request = by_name["POST /api/v1/commands/async"]
    job = by_name["job command"]
    webhook = by_name["webhook POST"]
    virtuoso_calls = [span for span in finished if span.kind is SpanKind.CLIENT and span is not webhook]
    assert request.kind is SpanKind.SERVER
    assert format_trace_id(request.context.trace_id) == CALLER_TRACE
    assert job.attributes is not None
    assert job.attributes["job.id"] == queued.json()["job_id"]
    # The request, its job, the job's Virtuoso calls and the webhook delivery: one trace.
    for span in (job, webhook, *virtuoso_calls):
        assert format_trace_id(span.context.trace_id) == CALLER_TRACE, span.name
    assert virtuoso_calls, "the job's Virtuoso calls were not traced"
    assert job.parent is not None
    assert job.parent.span_id == request.context.span_id
    # The receiver got the trace in its headers and in the event (CloudEvents' traceparent).
    assert delivery.headers["traceparent"].split("-")[1] == CALLER_TRACE
    event = json.loads(delivery.body)
    assert event["type"] == "job.completed"
    assert event["traceparent"].split("-")[1] == CALLER_TRACE


async def test_a_request_without_a_trace_starts_one_and_the_virtuoso_call_joins_it(
    client: httpx.AsyncClient, make_key: MakeKey, spans: InMemorySpanExporter
) -> None:
    writer = auth(await make_key(name="author"))
    ran = await client.post(
        "/api/v1/commands", json={**NAVIGATE, "checkpoint_id": SEED.checkpoint_id}, headers=writer
    )
    assert ran.status_code == 201
    finished = spans.get_finished_spans()
    (request,) = [span for span in finished if span.name == "POST /api/v1/commands"]
    assert request.parent is None
    calls = [span for span in finished if span.kind is SpanKind.CLIENT]
    assert calls
    assert all(span.context.trace_id == request.context.trace_id for span in calls)
    assert request.attributes is not None
    assert request.attributes["http.route"] == "/api/v1/commands"
    assert request.attributes["http.response.status_code"] == 201


@pytest.mark.timeout(120)
async def test_on_cloud_tasks_the_push_and_the_job_continue_the_requests_trace(tmp_path: Path) -> None:
    pytest.importorskip("google.cloud.tasks_v2", reason="the gcp extra is not installed")
    with tasks_emulator(retries=2) as host:
        async with on_cloud_tasks(tmp_path, emulator_host=host) as cloud:
            await cloud.services.tasks.queue.create_queues(["command"])  # type: ignore[attr-defined]
            spans = InMemorySpanExporter()
            assert cloud.services.telemetry.tracer_provider is not None
            cloud.services.telemetry.tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
            async with httpx.AsyncClient(base_url=cloud.base_url) as http:
                queued = await http.post(
                    "/api/v1/commands/async",
                    json={**NAVIGATE, "checkpoint_id": SEED.checkpoint_id},
                    headers={"X-API-Key": cloud.key, "traceparent": f"00-{CALLER_TRACE}-00f067aa0ba902b7-01"},
                )
            assert queued.status_code == 202
            job = await follow(cloud, queued.json()["job_id"])
            assert job["status"] == "succeeded"
    finished = spans.get_finished_spans()
    (push,) = [span for span in finished if span.name == "POST /internal/tasks/{kind}"]
    (handled,) = [span for span in finished if span.name == "job command"]
    assert format_trace_id(push.context.trace_id) == CALLER_TRACE  # the task's traceparent header
    assert format_trace_id(handled.context.trace_id) == CALLER_TRACE  # the task's payload
