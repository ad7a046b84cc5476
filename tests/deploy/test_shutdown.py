"""SIGTERM to a served process, as Cloud Run sends it before SIGKILL: open requests are cut after
``SHUTDOWN_DRAIN_SECONDS``, then the outbox is flushed to its backend, and the process exits 0.

The events below are accepted while Pub/Sub is stopped, so they wait in the outbox; Pub/Sub is then
started again and the process signalled. The periodic flush is set to an hour, so only the shutdown
flush can deliver them; a request held open by a slow Virtuoso shows that an open request does not
keep the process (and its flush) waiting past the window."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fixtures.pubsub_emulator import PubSubEmulator, pubsub_emulator_or_skip
from tests.processes import CLI, free_port, running
from virtuoso_api.config import Settings
from virtuoso_api.infra.events import SubscriptionSpec
from virtuoso_api.infra.events.gcp_pubsub import PubSubEventBus
from virtuoso_api.infra.outbox import build_outbox
from virtuoso_api.kit.clock import SystemClock
from virtuoso_api.resilience import RemoteCall
from virtuoso_api.sandbox import OBSERVER_HEADER

pytestmark = [pytest.mark.pubsub, pytest.mark.timeout(240)]

PROJECT = "demo-sigterm"
TOKEN = "slow-token"


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[PubSubEmulator]:
    private = PubSubEmulator(pubsub_emulator_or_skip(), tmp_path / "emulator")
    private.start()
    yield private
    private.stop()


@pytest.fixture
def slow_virtuoso() -> Iterator[str]:
    """A sandbox holding every answer for two minutes: a request to it stays open. Killed, not
    stopped: its own graceful stop would wait for the answers it holds."""
    port = free_port()
    process = subprocess.Popen(
        [*CLI, "sandbox", "--port", str(port), "--token", TOKEN, "--latency-ms", "120000"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        headers = {"Authorization": f"Bearer {TOKEN}", OBSERVER_HEADER: "1"}
        for _ in range(300):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/projects", headers=headers).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            threading.Event().wait(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.kill()
        process.wait()


def _bus(host: str) -> PubSubEventBus:
    settings = Settings(gcp_project_id=PROJECT, pubsub_emulator_host=host)
    remote = RemoteCall.from_settings("pubsub", settings, clock=SystemClock())
    return PubSubEventBus.from_settings(PROJECT, emulator_host=host, remote=remote)


def _virtuoso_requests(sandbox: str) -> int:
    headers = {"Authorization": f"Bearer {TOKEN}", OBSERVER_HEADER: "1"}
    answer = httpx.get(f"{sandbox}/_sandbox/requests", headers=headers, timeout=5)
    return int(answer.json()["item"]["total"])


async def test_sigterm_cuts_open_requests_and_flushes_the_outbox_before_exiting(
    tmp_path: Path, emulator: PubSubEmulator, slow_virtuoso: str
) -> None:
    data_dir = tmp_path / "data"
    env = {
        "DATA_DIR": str(data_dir),
        "USE_PUBSUB": "true",
        "GCP_PROJECT_ID": PROJECT,
        "PUBSUB_EMULATOR_HOST": emulator.host,
        "VIRTUOSO_BASE_URL": f"{slow_virtuoso}/api",
        "VIRTUOSO_API_TOKEN": TOKEN,
        "VIRTUOSO_TIMEOUT_SECONDS": "300",
        "VIRTUOSO_RETRY_ATTEMPTS": "1",
        "OUTBOX_FLUSH_SECONDS": "3600",
        "BREAKER_COOLDOWN_SECONDS": "0",
        "REMOTE_RETRY_DEADLINE_SECONDS": "2",
        "REMOTE_ATTEMPT_TIMEOUT_SECONDS": "1",
        "SHUTDOWN_DRAIN_SECONDS": "1",
        # Generous on a loaded machine: the emulator's first answers after a start are slow.
        "SHUTDOWN_FLUSH_SECONDS": "30",
    }
    made = subprocess.run(
        [*CLI, "keys", "create", "--name", "admin", "--scopes", "admin,write,read", "--json"],
        env={**os.environ, **env},
        capture_output=True,
        check=True,
        timeout=60,
    )
    admin = json.loads(made.stdout)["key"]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    live = f"{base}/health/live"
    with (
        (tmp_path / "serve.log").open("w+b") as log,
        running("serve", "--port", str(port), ready=live, env=env, output=log) as served,
    ):
        emulator.stop()
        async with httpx.AsyncClient(base_url=base, headers={"X-API-Key": admin}, timeout=60) as http:
            for n in range(3):
                created = await http.post("/api/v1/api-keys", json={"name": f"ci-{n}", "scopes": ["read"]})
                assert created.status_code == 201, created.text
            ready = (await http.get("/health/ready")).json()
            assert ready["backends"]["events"]["pending_events"] == 3

            emulator.start()  # empty: the topic and a subscription are made again, as a deploy would
            bus = _bus(emulator.host)
            await bus.subscribe(SubscriptionSpec("audit"))
            # Until the service itself reaches Pub/Sub again (its channel's reconnect pause passes);
            # the events still wait: only the shutdown flush may send them.
            for _ in range(120):
                events = (await http.get("/health/ready")).json()["backends"]["events"]
                if events["status"] == "ok":
                    break
                await asyncio.sleep(0.5)
            assert events["status"] == "ok", events
            assert events["pending_events"] == 3

            # A command whose first call to Virtuoso is held for two minutes: the request stays open.
            before = await asyncio.to_thread(_virtuoso_requests, slow_virtuoso)
            command = asyncio.create_task(
                http.post(
                    "/api/v1/commands",
                    json={"command": "step-misc", "args": ["comment", "slow"], "checkpoint_id": 1001},
                )
            )
            for _ in range(300):
                if await asyncio.to_thread(_virtuoso_requests, slow_virtuoso) > before:
                    break
                await asyncio.sleep(0.1)
            else:
                pytest.fail("the command never reached Virtuoso")

            served.send_signal(signal.SIGTERM)
            # Far less than the two minutes Virtuoso holds the open request.
            code = await asyncio.to_thread(served.wait, 90)
            log.seek(0)
            # uvicorn raises the signal again once it has shut down, so the parent sees the SIGTERM;
            # a process killed before its shutdown ran would leave the outbox full (checked below).
            assert code == -signal.SIGTERM, log.read().decode(errors="replace")[-3000:]
            cut = await command  # cut after SHUTDOWN_DRAIN_SECONDS: a 503 to send again, not a 500
            assert cut.status_code == 503
            assert cut.headers["Retry-After"] == "1"
            assert cut.json()["error"]["type"] == "service_unavailable"

    async with build_outbox(Settings(data_dir=data_dir), clock=SystemClock()) as outbox:
        assert await outbox.log.pending() == 0

    received: list[dict[str, object]] = []
    for _ in range(40):
        batch = await bus.pull("audit", wait_seconds=0.5)
        await bus.ack("audit", [r.ack_id for r in batch])
        received += [json.loads(r.message.data) for r in batch]
        if len(received) >= 3:
            break
    names = sorted(e["data"]["name"] for e in received if e["type"] == "api_key.created")  # type: ignore[index]
    assert names == ["ci-0", "ci-1", "ci-2"]
