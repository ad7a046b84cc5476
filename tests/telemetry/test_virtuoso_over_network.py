"""Over the network the Virtuoso client speaks aiohttp, not httpx (the other telemetry tests use the
in-process sandbox, over httpx): its calls are still spans of the request's trace."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode, format_trace_id
from pydantic import AnyHttpUrl, SecretStr

from tests.processes import served_sandbox
from tests.support import MakeKey, auth
from virtuoso_api.config import Environment, Settings
from virtuoso_api.sandbox import SEED

TOKEN = "telemetry-network-token"
CALLER_TRACE = "0af7651916cd43dd8448eb211c80319c"


@pytest.fixture(scope="module")
def sandbox_url() -> Iterator[str]:
    with served_sandbox(TOKEN) as base_url:
        yield base_url


@pytest.fixture
def settings(tmp_path: Path, sandbox_url: str) -> Settings:
    return Settings(
        _env_file=None,
        environment=Environment.TEST,
        data_dir=tmp_path / "data",
        virtuoso_base_url=AnyHttpUrl(sandbox_url),
        virtuoso_api_token=SecretStr(TOKEN),
        virtuoso_org_id=SEED.organization_id,
        virtuoso_retry_attempts=1,
    )


async def test_virtuoso_calls_over_aiohttp_are_spans_of_the_callers_trace(
    client: httpx.AsyncClient, make_key: MakeKey, spans: InMemorySpanExporter
) -> None:
    writer = auth(await make_key(name="author"))
    body = {
        "command": "step-navigate",
        "args": ["to", "https://example.com"],
        "checkpoint_id": SEED.checkpoint_id,
    }
    traceparent = f"00-{CALLER_TRACE}-00f067aa0ba902b7-01"
    made = await client.post("/api/v1/commands", json=body, headers={**writer, "traceparent": traceparent})
    assert made.status_code == 201, made.text
    unknown = {**body, "checkpoint_id": 987654}
    refused = await client.post(
        "/api/v1/commands", json=unknown, headers={**writer, "traceparent": traceparent}
    )
    assert refused.status_code == 404, refused.text

    calls = [span for span in spans.get_finished_spans() if span.kind is SpanKind.CLIENT]
    assert {span.name for span in calls} >= {"virtuoso POST"}
    assert all(format_trace_id(span.context.trace_id) == CALLER_TRACE for span in calls)
    statuses = {span.attributes["http.response.status_code"] for span in calls if span.attributes}
    assert 404 in statuses
    assert any(isinstance(status, int) and 200 <= status < 300 for status in statuses)
    missing = [
        span for span in calls if span.attributes and span.attributes["http.response.status_code"] == 404
    ]
    assert missing
    assert all(span.status.status_code is not StatusCode.ERROR for span in missing)  # a 4xx answered
