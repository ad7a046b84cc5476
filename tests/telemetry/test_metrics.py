"""Every key metric of the seed appears at /metrics after the activity it counts; labels stay bounded."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.processes import free_port
from tests.support import MakeKey, auth
from tests.telemetry.conftest import parse, value
from tests.webhooks.receiver import receiving
from virtuoso_api.api_keys.models import ApiKeyCreate, Scope
from virtuoso_api.app import create_app
from virtuoso_api.config import Settings
from virtuoso_api.kit.clock import ManualClock
from virtuoso_api.sandbox import SEED
from virtuoso_api.services import Services

CHECKPOINT = SEED.checkpoint_id
NAVIGATE = {"command": "step-navigate", "args": ["to", "https://example.com"]}


async def scrape(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> dict[str, list[tuple[dict[str, str], float]]]:
    answer = await client.get("/metrics", headers=admin)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return parse(answer.text)


async def test_every_key_metric_appears_after_its_activity(
    client: httpx.AsyncClient, services: Services, make_key: MakeKey, admin: dict[str, str]
) -> None:
    writer = auth(await make_key(name="author", user="user-secret-id-123"))
    async with receiving() as receiver:
        made = await client.post(
            "/api/v1/webhooks", json={"url": receiver.url, "events": ["session.created"]}, headers=writer
        )
        assert made.status_code == 201
        session = await client.post(
            "/api/v1/sessions", json={"checkpoint_id": f"cp_{CHECKPOINT}"}, headers=writer
        )
        assert session.status_code == 201
        ok = await client.post(
            "/api/v1/commands", json={**NAVIGATE, "checkpoint_id": CHECKPOINT}, headers=writer
        )
        assert ok.status_code == 201, ok.text
        missing = await client.post(
            "/api/v1/commands", json={**NAVIGATE, "checkpoint_id": 999999}, headers=writer
        )
        assert missing.status_code == 404
        assert (await client.get("/api/v1/jobs/job_0000000000000000", headers=writer)).status_code == 404
        await services.cache.set("k", {"v": 1})
        assert await services.cache.get("k") == {"v": 1}
        assert await services.cache.get("absent") is None
        queued = await client.post(
            "/api/v1/commands/async",
            json={**NAVIGATE, "checkpoint_id": CHECKPOINT, "delay_seconds": 3600},
            headers=writer,
        )
        assert queued.status_code == 202
        await receiver.wait_for(1)
    samples = await scrape(client, admin)

    duration = "virtuoso_http_server_duration_milliseconds_count"
    assert value(samples, duration, http_route="/api/v1/commands", http_response_status_code="201") == 1
    assert value(samples, duration, http_route="/api/v1/commands", http_response_status_code="404") == 1
    assert value(samples, duration, http_route="/api/v1/jobs/{job_id}", http_response_status_code="404") == 1
    commands = "virtuoso_commands_total"
    assert value(samples, commands, command="step-navigate", outcome="success", source="http") == 1
    assert value(samples, commands, command="step-navigate", outcome="failure") == 1
    assert value(samples, "virtuoso_command_duration_milliseconds_count", command="step-navigate") == 2
    assert value(samples, "virtuoso_errors_total", where="command") == 1
    assert value(samples, "virtuoso_session_events_total", event="created") == 1
    assert value(samples, "virtuoso_cache_requests_total", result="hit") == 1
    assert value(samples, "virtuoso_cache_requests_total", result="miss") == 1
    assert (
        value(samples, "virtuoso_queue_depth", queue="virtuoso-command", state="waiting", backend="local")
        == 1
    )
    assert value(samples, "virtuoso_events_published_total", type="session.created") == 1
    assert value(samples, "virtuoso_events_consumed_total", consumer="webhooks", outcome="acked") >= 1

    # Bounded labels: no user id, session id, job id or raw path anywhere in the text.
    text = (await client.get("/metrics", headers=admin)).text
    for unbounded in (
        "user-secret-id-123",
        session.json()["session_id"],
        queued.json()["job_id"],
        "job_0000",
    ):
        assert unbounded not in text


async def test_metrics_need_an_admin_key(client: httpx.AsyncClient, make_key: MakeKey) -> None:
    assert (await client.get("/metrics")).status_code == 401
    writer = auth(await make_key(name="author"))
    refused = await client.get("/metrics", headers=writer)
    assert refused.status_code == 403
    assert refused.json()["error"]["message"] == "this API key lacks the 'admin' scope"


async def test_with_telemetry_off_there_are_no_metrics(settings: Settings, clock: ManualClock) -> None:
    async with served(settings.model_copy(update={"telemetry_enabled": False}), clock) as (client, services):
        assert not services.telemetry.enabled
        key, _ = await services.api_keys.create(ApiKeyCreate(name="operator", scopes=[Scope.ADMIN]))
        answer = await client.get("/metrics", headers=auth(key))
        assert answer.status_code == 404
        assert "TELEMETRY_ENABLED=false" in answer.json()["error"]["message"]
        ok = await client.post(
            "/api/v1/commands", json={**NAVIGATE, "checkpoint_id": CHECKPOINT}, headers=auth(key)
        )
        assert ok.status_code == 201  # and nothing is recorded: the instruments are the SDK's no-ops


async def test_metrics_port_serves_them_without_a_key(settings: Settings, clock: ManualClock) -> None:
    port = free_port()
    async with served(settings.model_copy(update={"metrics_port": port}), clock) as (client, _):
        assert (await client.get("/health/live")).status_code == 200
        async with httpx.AsyncClient() as scraper:
            answer = await scraper.get(f"http://127.0.0.1:{port}/metrics")
        assert answer.status_code == 200
        assert (
            value(
                parse(answer.text),
                "virtuoso_http_server_duration_milliseconds_count",
                http_route="/health/live",
            )
            == 1
        )
    with pytest.raises(httpx.ConnectError):  # closed with the service
        async with httpx.AsyncClient() as scraper:
            await scraper.get(f"http://127.0.0.1:{port}/metrics")


@contextlib.asynccontextmanager
async def served(settings: Settings, clock: ManualClock) -> AsyncIterator[tuple[httpx.AsyncClient, Services]]:
    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client, app.state.services
