"""Jobs on Cloud Tasks (the emulator): tasks created, pushed over HTTP to the real handler with an OIDC
token, retried; the push route refuses every token but the right one; the outbox holds enqueues; the
queues carry the retry settings. What the adapter promises as a tasks queue is in
``tests/infra/tasks/test_contract.py``."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from tests.fixtures.tasks_emulator import SERVICE_ACCOUNT, OidcStandIn, serving, tasks_emulator
from tests.processes import free_port
from virtuoso_api.api_keys.models import ApiKeyCreate, Scope
from virtuoso_api.app import create_app
from virtuoso_api.config import Environment, Settings
from virtuoso_api.errors import BackendUnavailable
from virtuoso_api.infra.tasks.gcp_cloud_tasks import build_client
from virtuoso_api.sandbox import SEED
from virtuoso_api.services import Services

pytestmark = pytest.mark.timeout(120)
FINISHED = {"succeeded", "failed", "cancelled"}
BATCH = [
    {"command": "step-navigate", "args": ["to", "https://example.com"]},
    {"command": "step-interact", "args": ["click", "button.submit"]},
    {"command": "step-assert", "args": ["exists", "Success message"]},
]


@dataclass
class Cloud:
    settings: Settings
    services: Services
    stand_in: OidcStandIn
    base_url: str
    key: str


@contextlib.asynccontextmanager
async def on_cloud_tasks(tmp_path: Path, *, emulator_host: str, **overrides: Any) -> AsyncIterator[Cloud]:
    """The service on a real port, pushed to by the emulator through the OIDC stand-in."""
    port = free_port()
    stand_in = OidcStandIn(f"http://127.0.0.1:{port}")
    values: dict[str, Any] = {
        "environment": Environment.TEST,
        "data_dir": tmp_path / "data",
        "virtuoso_sandbox": True,
        "use_cloud_tasks": True,
        "gcp_project_id": "demo-tasks",
        "cloud_tasks_emulator_host": emulator_host,
        "public_base_url": stand_in.base_url,
        "gcp_service_account_email": SERVICE_ACCOUNT,
        "tasks_oidc_certs_url": stand_in.certs_url,
        "tasks_max_attempts": 3,  # the emulator runs with -r 2
    }
    settings = Settings(_env_file=None, **{**values, **overrides})
    app = create_app(settings)
    async with serving(stand_in.app, stand_in.port), serving(app, port):
        services: Services = app.state.services
        key, _ = await services.api_keys.create(ApiKeyCreate(name="author", scopes=[Scope.WRITE]))
        yield Cloud(settings, services, stand_in, f"http://127.0.0.1:{port}", key)


async def follow(cloud: Cloud, job_id: str, rounds: int = 600) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=cloud.base_url, headers={"X-API-Key": cloud.key}) as http:
        for _ in range(rounds):
            job: dict[str, Any] = (await http.get(f"/api/v1/jobs/{job_id}")).json()
            if job["status"] in FINISHED:
                return job
            await asyncio.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish: {job}")


async def test_the_seeds_facade_example_runs_on_the_emulator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with tasks_emulator(retries=2) as host:
        async with on_cloud_tasks(tmp_path, emulator_host=host) as cloud:
            await cloud.services.tasks.queue.create_queues(["command", "batch", "suite"])  # type: ignore[attr-defined]
            state = cloud.services.virtuoso.sandbox_app.state.sandbox
            state.add_checkpoint(state.goal(SEED.goal_id), "the seed's checkpoint", checkpoint_id=123)
            await cloud.services.sessions.create("facade", checkpoint_id=SEED.checkpoint_id, activate=True)
            for name, value in cloud.settings.public_view().items():  # the facade reads the environment
                if value not in (None, "", []):
                    # Lists as the environment spells them (WEBHOOK_RETRY_SCHEDULE=5,300,...).
                    text = ",".join(map(str, value)) if isinstance(value, list) else str(value)
                    monkeypatch.setenv(name, text)
            await _run_the_seeds_example(cloud)


async def _run_the_seeds_example(cloud: Cloud) -> None:
    from virtuoso_api.gcp import close_cloud_tasks_client, get_cloud_tasks_client

    tasks = get_cloud_tasks_client()
    try:
        # -- the seed's example, as written ----------------------------------------------------
        task = await tasks.create_command_task(
            command="step-navigate",
            args=["to", "https://example.com"],
            checkpoint_id="cp_123",
            user_id="user-456",
        )
        batch_task = await tasks.create_batch_task(
            commands=[
                {"command": "step-navigate", "args": ["to", "https://example.com"]},
                {"command": "step-interact", "args": ["click", "button.submit"]},
                {"command": "step-assert", "args": ["exists", "Success message"]},
            ],
            batch_id="batch-001",
            parallel=True,
        )
        # ---------------------------------------------------------------------------------------
        assert task["name"] == task["job_id"]
        assert batch_task["name"] == batch_task["job_id"]
        command_job = await tasks.wait_for_job(task["job_id"], timeout=60)
        batch_job = await tasks.wait_for_job(batch_task["job_id"], timeout=60)
        again = await tasks.create_batch_task(commands=BATCH, batch_id="batch-001", parallel=True)
    finally:
        await close_cloud_tasks_client()
    assert (command_job["status"], command_job["owner"], command_job["result"]["checkpoint_id"]) == (
        "succeeded",
        "user-456",
        123,
    )
    assert batch_job["status"] == "succeeded"
    assert again["job_id"] == batch_task["job_id"]  # the same batch_id is the same job, run once
    client = cloud.services.virtuoso.client
    assert [s.action for s in await client.list_steps(123)] == ["NAVIGATE"]
    assert [s.action for s in await client.list_steps(SEED.checkpoint_id)] == [
        "NAVIGATE",
        "CLICK",
        "ASSERT_EXISTS",
    ]
    assert cloud.stand_in.pushes == 2


async def test_a_failing_job_is_pushed_again_then_failed_on_its_last_attempt(tmp_path: Path) -> None:
    down = {
        "virtuoso_sandbox": False,
        "virtuoso_api_token": SecretStr("token"),
        "virtuoso_base_url": f"http://127.0.0.1:{free_port()}/api",
        "virtuoso_retry_attempts": 1,
    }
    with tasks_emulator(retries=2) as host:
        async with on_cloud_tasks(tmp_path, emulator_host=host, **down) as cloud:
            await cloud.services.tasks.queue.create_queues(["command"])  # type: ignore[attr-defined]
            async with httpx.AsyncClient(base_url=cloud.base_url, headers={"X-API-Key": cloud.key}) as http:
                body = {
                    "command": "step-navigate",
                    "args": ["to", "https://example.com"],
                    "checkpoint_id": 1001,
                }
                response = await http.post("/api/v1/commands/async", json=body)
            assert response.status_code == 202
            job = await follow(cloud, response.json()["job_id"])
    assert job["status"] == "failed"
    assert job["attempts"] == 3  # read from X-CloudTasks-TaskRetryCount
    assert job["error"]["type"] == "service_unavailable"
    assert cloud.stand_in.pushes == 3


async def test_a_push_without_googles_token_for_this_route_is_refused(tmp_path: Path) -> None:
    with tasks_emulator(retries=0) as host:
        async with on_cloud_tasks(tmp_path, emulator_host=host) as cloud:
            route = f"{cloud.base_url}/internal/tasks/command"
            audience = f"{cloud.stand_in.base_url}/internal/tasks/command"
            other = OidcStandIn("http://unused")  # its own key: Google did not sign with it
            token = cloud.stand_in.token
            attempts = {
                "no token": None,
                "not a bearer token": "Basic abc",
                "another audience": f"Bearer {token(audience=route)}",
                "another account": f"Bearer {token(audience=audience, email='x@evil.example')}",
                "unverified email": f"Bearer {token(audience=audience, email_verified=False)}",
                "another issuer": f"Bearer {token(audience=audience, iss='https://evil.example')}",
                "expired": f"Bearer {token(audience=audience, exp=int(time.time()) - 3600)}",
                "another key": f"Bearer {other.token(audience=audience)}",
                "garbage": "Bearer not.a.jwt",
            }
            async with httpx.AsyncClient() as http:
                for what, authorization in attempts.items():
                    headers = {} if authorization is None else {"Authorization": authorization}
                    answer = await http.post(route, json={"job_id": "job_0"}, headers=headers)
                    assert answer.status_code == 401, what
                    assert "Bearer" not in answer.text, what  # the token is never echoed
                good = {"Authorization": f"Bearer {cloud.stand_in.token(audience=audience)}"}
                answer = await http.post(route, json={"job_id": "job_0"}, headers=good)
                assert answer.status_code == 200  # no such job: nothing to retry
                suite_audience = f"{cloud.stand_in.base_url}/internal/tasks/nope"
                bad_kind = {"Authorization": f"Bearer {cloud.stand_in.token(audience=suite_audience)}"}
                nope = await http.post(
                    f"{cloud.base_url}/internal/tasks/nope", json={"job_id": "x"}, headers=bad_kind
                )
                assert nope.status_code == 404
                bad_body = await http.post(route, content=b"[1]", headers=good)
                assert bad_body.status_code == 400


async def test_the_queues_are_created_with_the_services_retry_settings(tmp_path: Path) -> None:
    # The emulator ignores a queue's RetryConfig (hence -r) but keeps it: what Cloud Tasks would apply.
    retry = {"tasks_max_attempts": 4, "tasks_min_backoff_seconds": 2, "tasks_max_backoff_seconds": 60}
    with tasks_emulator(retries=0) as host:
        async with on_cloud_tasks(tmp_path, emulator_host=host, tasks_max_doublings=2, **retry) as cloud:
            queue = cloud.services.tasks.queue
            made = await queue.create_queues(["command"])  # type: ignore[attr-defined]
            assert [name.rsplit("/", 1)[-1] for name in made] == ["virtuoso-command", "virtuoso-command-high"]
        reader = build_client(host)  # what the emulator holds, read with a client of the test's own
        try:
            stored = [(await reader.get_queue(name=name)).retry_config for name in made]
        finally:
            await reader.transport.close()  # type: ignore[no-untyped-call]
    for config in stored:
        assert (config.max_attempts, config.max_doublings) == (4, 2)
        assert (config.min_backoff.total_seconds(), config.max_backoff.total_seconds()) == (2, 60)


async def test_an_enqueue_waits_in_the_outbox_while_cloud_tasks_is_unreachable(tmp_path: Path) -> None:
    port = free_port()
    quick = {
        "remote_retry_deadline_seconds": 0.5,
        "remote_attempt_timeout_seconds": 0.5,
        "breaker_cooldown_seconds": 0,
    }
    async with on_cloud_tasks(tmp_path, emulator_host=f"127.0.0.1:{port}", **quick) as cloud:
        async with httpx.AsyncClient(base_url=cloud.base_url, headers={"X-API-Key": cloud.key}) as http:
            body = {"command": "step-misc", "args": ["comment", "later"], "checkpoint_id": 1001}
            response = await http.post("/api/v1/commands/async", json=body)
            assert response.status_code == 202  # recorded durably: the job and its enqueue in the outbox
            ready = (await http.get("/health/ready")).json()
            assert ready["backends"]["tasks"]["status"] == "unavailable"
            assert ready["backends"]["tasks"]["pending_enqueues"] == 1
            assert (await http.get(f"/api/v1/jobs/{response.json()['job_id']}")).json()["status"] == "queued"
        with tasks_emulator(retries=0, port=port):
            for _ in range(20):  # the client reconnects within a second of the emulator starting
                with contextlib.suppress(BackendUnavailable):
                    await cloud.services.tasks.queue.create_queues(["command"])  # type: ignore[attr-defined]
                    break
            assert await cloud.services.outbox.flush() == 1
            job = await follow(cloud, response.json()["job_id"])
            assert await cloud.services.tasks.pending_enqueues() == 0
    assert job["status"] == "succeeded"
