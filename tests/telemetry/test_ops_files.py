"""The dashboards and alert policies in ops/ name only metrics the service records, as each backend
spells them: Cloud Monitoring's ``workload.googleapis.com/<name>`` (and its PromQL spelling), and the
Prometheus names the exporter writes at /metrics."""

from __future__ import annotations

import json
import re
from pathlib import Path

from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics import MeterProvider
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from virtuoso_api.telemetry.instruments import Instruments

OPS = Path(__file__).resolve().parents[2] / "ops"


def recorded() -> tuple[set[str], set[str]]:
    """The instruments' OpenTelemetry names, and the Prometheus families they become (one value
    recorded in each, read back through the real exporter)."""
    registry = CollectorRegistry()
    provider = MeterProvider(metric_readers=[PrometheusMetricReader(registry=registry)])
    instruments = Instruments(provider.get_meter("test"))
    names = set()
    for instrument in vars(instruments).values():
        names.add(instrument.name)
        if hasattr(instrument, "add"):
            instrument.add(1)
        elif hasattr(instrument, "record"):
            instrument.record(1.0)
        else:
            instrument.set(1)
    families = {family.name for family in text_string_to_metric_families(generate_latest(registry).decode())}
    provider.shutdown()
    return names, families


def test_cloud_monitoring_files_name_recorded_metrics() -> None:
    names, _ = recorded()
    promql = {name.replace(".", "_") for name in names}
    files = [OPS / "monitoring" / "dashboard.json", *sorted((OPS / "monitoring" / "alerts").glob("*.json"))]
    assert len(files) == 6
    for path in files:
        text = path.read_text()
        json.loads(text)
        for name in re.findall(r"workload\.googleapis\.com/([a-z_.]+)", text):
            assert name in names, (path.name, name)
        for name in re.findall(r"workload_googleapis_com:([a-z_]+)", text):
            assert re.sub(r"_(bucket|count|sum)$", "", name) in promql, (path.name, name)
    alerts = {path.stem for path in (OPS / "monitoring" / "alerts").glob("*.json")}
    assert alerts == {"error-rate", "p99-latency", "queue-depth", "dead-letters", "run-failures"}


def test_the_grafana_dashboard_names_prometheus_families() -> None:
    _, families = recorded()
    text = (OPS / "grafana" / "virtuoso-api.json").read_text()
    dashboard = json.loads(text)
    assert dashboard["panels"]
    used = set(re.findall(r"\b(virtuoso_[a-z_]+)", text))
    assert used
    for name in used:
        family = re.sub(r"_(bucket|count|sum|total)$", "", name)
        assert family in families, name
