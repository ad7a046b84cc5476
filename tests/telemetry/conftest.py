"""Telemetry tests: the real app, its spans observed through the OpenTelemetry SDK's own in-memory
exporter (added to the running service's tracer provider), its metrics read at /metrics."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client.parser import text_string_to_metric_families

from tests.support import MakeKey, auth
from virtuoso_api.api_keys.models import Scope
from virtuoso_api.config import Settings
from virtuoso_api.kit.clock import ManualClock
from virtuoso_api.services import Services

Samples = dict[str, list[tuple[dict[str, str], float]]]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"webhook_allow_local_targets": True})


@pytest.fixture
def clock() -> ManualClock:
    # The webhook signature checker compares the signed time with the wall clock.
    return ManualClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def spans(services: Services) -> InMemorySpanExporter:
    exporter = InMemorySpanExporter()
    assert services.telemetry.tracer_provider is not None
    services.telemetry.tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    return exporter


@pytest.fixture
async def admin(make_key: MakeKey) -> dict[str, str]:
    return auth(await make_key(Scope.ADMIN, name="operator"))


def parse(text: str) -> Samples:
    """Prometheus text → sample name → [(labels, value)] (the reference parser of prometheus-client)."""
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((dict(sample.labels), sample.value))
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sum of ``name``'s samples whose labels include ``labels`` (0 when there is none)."""
    return sum(v for found, v in samples.get(name, []) if labels.items() <= found.items())
