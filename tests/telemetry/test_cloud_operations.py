"""USE_CLOUD_MONITORING: spans to Cloud Trace, metrics to Cloud Monitoring and errors to Error Reporting,
received by an in-process gRPC stand-in over a real connection; an unreachable or slow Google slows no
request, and what could not be sent is counted as dropped."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

pytest.importorskip("google.cloud.trace_v2", reason="the gcp extra is not installed")

from tests.fixtures.cloud_operations import CloudOperationsStandIn, cloud_operations_stand_in
from tests.processes import free_port
from tests.support import auth
from tests.telemetry.conftest import parse, value
from virtuoso_api.api_keys.models import ApiKeyCreate, Scope
from virtuoso_api.app import create_app
from virtuoso_api.config import Settings
from virtuoso_api.kit.clock import ManualClock
from virtuoso_api.kit.redact import register_secret
from virtuoso_api.sandbox import SEED
from virtuoso_api.services import Services
from virtuoso_api.telemetry import Telemetry

NAVIGATE = {
    "command": "step-navigate",
    "args": ["to", "https://example.com"],
    "checkpoint_id": SEED.checkpoint_id,
}
PLANTED = "sk-live-error-reporting-canary-51e0"
PROJECT = "demo-telemetry"


@pytest.fixture
def stand_in() -> Iterator[CloudOperationsStandIn]:
    with cloud_operations_stand_in() as running:
        yield running


def on_google(settings: Settings, endpoint: str | None) -> Settings:
    return settings.model_copy(
        update={
            "use_cloud_monitoring": True,
            "gcp_project_id": PROJECT,
            "cloud_operations_emulator_host": endpoint,
        }
    )


@contextlib.asynccontextmanager
async def served(
    settings: Settings, clock: ManualClock
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient, str]]:
    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app):
        services: Services = app.state.services
        key, _ = await services.api_keys.create(
            ApiKeyCreate(name="operator", user_id="ana", scopes=[Scope.ADMIN])
        )
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield app, client, key


def flush(telemetry: Telemetry) -> None:
    """What the background exporters would send at their next tick, sent now (or failed now)."""
    assert telemetry.tracer_provider is not None
    assert telemetry.meter_provider is not None
    assert telemetry.errors is not None
    telemetry.tracer_provider.force_flush()
    telemetry.meter_provider.force_flush()
    telemetry.errors.flush()


async def test_spans_metrics_and_errors_reach_google(
    settings: Settings, clock: ManualClock, stand_in: CloudOperationsStandIn
) -> None:
    register_secret(PLANTED)
    async with served(on_google(settings, stand_in.address), clock) as (app, client, key):

        async def broken() -> None:
            raise ValueError(f"bad state near {PLANTED}")

        app.add_api_route("/api/v1/broken", broken, methods=["GET"])
        ran = await client.post("/api/v1/commands", json=NAVIGATE, headers=auth(key))
        assert ran.status_code == 201
        assert (await client.get("/api/v1/broken", headers=auth(key))).status_code == 500
        telemetry: Telemetry = app.state.services.telemetry
        assert telemetry.backend == "cloud"
        await asyncio.to_thread(flush, telemetry)

    names = {span.display_name.value for request in stand_in.spans for span in request.spans}
    assert {"POST /api/v1/commands", "GET /api/v1/broken"} <= names
    assert all(request.name == f"projects/{PROJECT}" for request in stand_in.spans)
    types = stand_in.series_types()
    for metric in (
        "virtuoso.commands",
        "virtuoso.command.duration",
        "virtuoso.http.server.duration",
        "virtuoso.errors",
    ):
        assert f"workload.googleapis.com/{metric}" in types
    commands = [
        series
        for request in stand_in.series
        for series in request.time_series
        if series.metric.type == "workload.googleapis.com/virtuoso.commands"
    ]
    assert commands[-1].metric.labels["command"] == "step-navigate"
    assert "user_id" not in commands[-1].metric.labels
    (reported,) = stand_in.errors
    assert reported.project_name == f"projects/{PROJECT}"
    assert reported.event.message.startswith("Traceback (most recent call last)")
    assert "ValueError: bad state near ***" in reported.event.message
    assert PLANTED not in str(reported)
    assert reported.event.service_context.service == "virtuoso-api"
    assert reported.event.context.http_request.url == "/api/v1/broken"
    assert reported.event.context.user == "ana"


async def test_an_unreachable_google_fails_no_request_and_the_drops_are_counted(
    settings: Settings, clock: ManualClock
) -> None:
    nowhere = f"127.0.0.1:{free_port()}"  # nothing listens there
    async with served(on_google(settings, nowhere), clock) as (app, client, key):
        for _ in range(3):
            assert (
                await client.post("/api/v1/commands", json=NAVIGATE, headers=auth(key))
            ).status_code == 201
        telemetry: Telemetry = app.state.services.telemetry
        await asyncio.to_thread(flush, telemetry)
        samples = parse((await client.get("/metrics", headers=auth(key))).text)
    assert value(samples, "virtuoso_telemetry_dropped_total", signal="spans") >= 3
    assert value(samples, "virtuoso_telemetry_dropped_total", signal="metrics") >= 1


async def test_a_google_that_does_not_answer_slows_no_request(
    settings: Settings, clock: ManualClock, stand_in: CloudOperationsStandIn
) -> None:
    async with served(on_google(settings, stand_in.address), clock) as (app, client, key):
        telemetry: Telemetry = app.state.services.telemetry
        assert (await client.post("/api/v1/commands", json=NAVIGATE, headers=auth(key))).status_code == 201
        stand_in.hold()
        flushing = asyncio.create_task(asyncio.to_thread(flush, telemetry))
        assert await asyncio.to_thread(stand_in.waiting.wait, 30)  # an export is stuck inside Google
        # Meanwhile requests are served, spans are made and metrics recorded as usual.
        for _ in range(10):
            assert (
                await client.post("/api/v1/commands", json=NAVIGATE, headers=auth(key))
            ).status_code == 201
        assert not flushing.done()
        stand_in.release()
        await flushing


async def test_without_credentials_the_service_starts_locally(
    settings: Settings, clock: ManualClock, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))  # no gcloud login to find either
    async with served(on_google(settings, None), clock) as (app, client, key):
        telemetry: Telemetry = app.state.services.telemetry
        assert telemetry.enabled
        assert telemetry.backend == "local"
        assert (await client.post("/api/v1/commands", json=NAVIGATE, headers=auth(key))).status_code == 201
        samples = parse((await client.get("/metrics", headers=auth(key))).text)
    assert value(samples, "virtuoso_commands_total", command="step-navigate") == 1
