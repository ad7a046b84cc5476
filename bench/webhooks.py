"""Webhook fan-out: 1,000 events to 10 local receivers, publish→delivery latency and throughput.

Runs the service in-process on the embedded defaults (the local events log and SQLite in a temporary
data folder), with 10 webhooks of one owner, each pointing at its own receiver (uvicorn on loopback in
the same event loop). Every event is published as a domain flow publishes it (the outbox, the bus),
fanned out by the ``webhooks`` consumer, and POSTed signed; a receiver notes when each arrived.

The baseline, measured in the same run, sends the same number of signed POSTs straight to the same
receivers with the same sender and no bus or store: what a delivery costs at the least. Printed:
events/s and deliveries/s for both, their ratio, and the p50/p99 of publish→delivery.

    .venv/bin/python bench/webhooks.py [--events 1000] [--receivers 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import uvicorn

from virtuoso_api.config import Environment, Settings
from virtuoso_api.events import EventType
from virtuoso_api.services import Services
from virtuoso_api.webhooks.models import WebhookCreate
from virtuoso_api.webhooks.sender import WebhookSender


class Receivers:
    def __init__(self, count: int, base_port: int) -> None:
        self.ports = [base_port + n for n in range(count)]
        self.arrivals: dict[tuple[int, str], float] = {}
        self.servers: list[uvicorn.Server] = []
        self.tasks: list[asyncio.Task[None]] = []

    def app(self, port: int) -> Any:
        async def receive_app(_scope: dict[str, Any], receive: Any, send: Any) -> None:
            body = b""
            while True:
                message = await receive()
                body += message.get("body", b"")
                if not message.get("more_body"):
                    break
            event_id = json.loads(body).get("id", "?")
            self.arrivals[(port, event_id)] = time.perf_counter()
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})

        return receive_app

    async def start(self) -> None:
        for port in self.ports:
            config = uvicorn.Config(
                self.app(port),
                host="127.0.0.1",
                port=port,
                log_level="error",
                lifespan="off",
                interface="asgi3",
            )
            server = uvicorn.Server(config)
            self.servers.append(server)
            self.tasks.append(asyncio.create_task(server.serve()))
        while not all(server.started for server in self.servers):
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        for server in self.servers:
            server.should_exit = True
        await asyncio.gather(*self.tasks)

    async def wait_for(self, count: int, timeout: float) -> None:
        deadline = time.perf_counter() + timeout
        while len(self.arrivals) < count and time.perf_counter() < deadline:
            await asyncio.sleep(0.01)


async def baseline(receivers: Receivers, events: int) -> float:
    """Signed POSTs straight to the receivers: deliveries per second."""
    sender = WebhookSender(timeout_seconds=10, allow_local=True)
    gate = asyncio.Semaphore(32)
    from datetime import UTC, datetime

    async def one(n: int, port: int) -> None:
        async with gate:
            body = json.dumps({"id": f"base_{n}"})
            await sender.send(
                f"http://127.0.0.1:{port}/hook",
                secrets=["whsec_" + "A" * 43 + "="],
                message_id=f"b{n}",
                at=datetime.now(UTC),
                body=body,
            )

    started = time.perf_counter()
    await asyncio.gather(*(one(n, port) for n in range(events) for port in receivers.ports))
    elapsed = time.perf_counter() - started
    await sender.close()
    receivers.arrivals.clear()
    return events * len(receivers.ports) / elapsed


async def main(events: int, receiver_count: int, base_port: int) -> int:
    receivers = Receivers(receiver_count, base_port)
    await receivers.start()
    base_rate = await baseline(receivers, events)
    with tempfile.TemporaryDirectory() as data:
        settings = Settings(
            _env_file=None,
            environment=Environment.TEST,
            data_dir=Path(data),
            virtuoso_sandbox=True,
            webhook_allow_local_targets=True,
        )
        async with Services.running(settings, background=True) as services:
            for port in receivers.ports:
                await services.webhooks.create("bench", WebhookCreate(url=f"http://127.0.0.1:{port}/hook"))
            published: dict[str, float] = {}
            started = time.perf_counter()
            for n in range(events):
                event = await services.events.publisher.publish(
                    EventType.COMMAND_EXECUTED,
                    {"command": "step-misc", "args": ["comment", f"n{n}"], "checkpoint_id": 1001 + n % 20},
                    owner="bench",
                )
                published[event.id] = time.perf_counter()
            publish_seconds = time.perf_counter() - started
            total = events * receiver_count
            await receivers.wait_for(total, timeout=600)
            finished = max(receivers.arrivals.values(), default=started)
            delivered = len(receivers.arrivals)
            latencies = sorted(
                (at - published[event_id]) * 1000
                for (_, event_id), at in receivers.arrivals.items()
                if event_id in published
            )
    await receivers.stop()
    elapsed = finished - started
    rate = delivered / elapsed if elapsed > 0 else 0.0
    print(f"events: {events} to {receiver_count} receivers ({total} deliveries), {delivered} delivered")
    print(f"publishing: {events / publish_seconds:8.0f} events/s accepted ({publish_seconds:.2f} s)")
    print(f"service:    {events / elapsed:8.0f} events/s fanned out, {rate:8.0f} deliveries/s")
    print(f"baseline:   {base_rate:8.0f} deliveries/s (signed POSTs, no bus, no store)")
    print(f"ratio:      {rate / base_rate:8.2f} of the baseline's deliveries/s")
    if latencies:
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        print(f"publish→delivery: p50 {statistics.median(latencies):.1f} ms, p99 {p99:.1f} ms")
    return 0 if delivered == total else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--receivers", type=int, default=10)
    parser.add_argument("--base-port", type=int, default=18_300)
    arguments = parser.parse_args()
    raise SystemExit(asyncio.run(main(arguments.events, arguments.receivers, arguments.base_port)))
