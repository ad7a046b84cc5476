"""Runs against a sandbox served on a real socket, in this test's event loop and on its clock.

The sandbox is a uvicorn server on 127.0.0.1 (a real TCP connection, as to Virtuoso), started as a task
of the test's own loop, so it shares the test's :class:`ManualClock`: a run's steps finish when the
service's poll loop pauses (pausing on a manual clock moves it on), and no test waits in real time.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn
from pydantic import SecretStr

from tests.processes import free_port
from tests.support import MakeKey, auth
from virtuoso_api.config import Settings
from virtuoso_api.kit.clock import ManualClock
from virtuoso_api.sandbox import SEED, create_sandbox_app
from virtuoso_api.sandbox.state import SandboxState

TOKEN = "runs-sandbox-token"


@dataclass
class ServedSandbox:
    base_url: str  # http://127.0.0.1:PORT/api
    state: SandboxState
    server: uvicorn.Server
    task: asyncio.Task[None]

    async def stop(self) -> None:
        """Stop serving (Virtuoso goes away): connections are refused from now on."""
        self.server.should_exit = True
        await self.task

    @property
    def root(self) -> str:
        return self.base_url.removesuffix("/api")

    def status_reads(self, execution_id: int) -> int:
        """How many times the sandbox was asked for this run's status."""
        return self.state.traffic.count("GET", f"/executions/{execution_id}/status")

    async def control(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """A test control (``/_sandbox/...``) over the socket, as any client would send it."""
        async with httpx.AsyncClient(
            base_url=self.root, headers={"Authorization": f"Bearer {TOKEN}"}
        ) as http:
            return await http.request(method, f"/_sandbox{path}", **kwargs)

    async def virtuoso(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        async with httpx.AsyncClient(
            base_url=self.base_url, headers={"Authorization": f"Bearer {TOKEN}"}
        ) as http:
            return await http.request(method, path, **kwargs)


@pytest.fixture
def latency_seconds() -> float:
    """How long the served sandbox holds each answer (a module overrides this for a slow link)."""
    return 0.0


@pytest.fixture
async def sandbox(clock: ManualClock, latency_seconds: float) -> AsyncIterator[ServedSandbox]:
    app = create_sandbox_app(token=TOKEN, clock=clock, latency_seconds=latency_seconds)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", ws="none")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # raises what stopped it
        await asyncio.sleep(0.01)
    try:
        yield ServedSandbox(f"http://127.0.0.1:{port}/api", app.state.sandbox, server, task)
    finally:
        server.should_exit = True
        await task


@pytest.fixture
def settings(settings: Settings, sandbox: ServedSandbox) -> Settings:
    """The service pointed at the served sandbox by URL and token alone, as at the real Virtuoso."""
    return settings.model_copy(
        update={
            "virtuoso_sandbox": False,
            "virtuoso_api_token": SecretStr(TOKEN),
            "virtuoso_base_url": sandbox.base_url,
            "virtuoso_org_id": SEED.organization_id,
            "virtuoso_ui_url": "https://app.virtuoso.qa",
        }
    )


@pytest.fixture
async def writer(make_key: MakeKey) -> dict[str, str]:
    return auth(await make_key(name="ci"))


async def add_step(sandbox: ServedSandbox, text: str, *, checkpoint: int = SEED.checkpoint_id) -> int:
    """A comment step in the sandbox (``sandbox:fail`` in the text makes it fail when run)."""
    count = len((await sandbox.virtuoso("GET", f"/checkpoints/{checkpoint}/teststeps")).json()["items"])
    body = {
        "checkpointId": checkpoint,
        "stepIndex": count + 1,
        "parsedStep": {"action": "COMMENT", "value": text},
    }
    response = await sandbox.virtuoso("POST", "/teststeps", json=body)
    assert response.status_code == 200, response.text
    step_id: int = response.json()["item"]["id"]
    return step_id


async def waited(client: httpx.AsyncClient, writer: dict[str, str], execution_id: int) -> dict[str, Any]:
    """``GET /api/v1/runs/{id}?wait=60``: the run once it ended (the service's clock moves on meanwhile)."""
    response = await client.get(f"/api/v1/runs/{execution_id}", params={"wait": 60}, headers=writer)
    assert response.status_code == 200, response.text
    view: dict[str, Any] = response.json()
    return view
