"""Jobs: the local task queue against huey's SQLite queue, and 200 async commands end to end.

    .venv/bin/python bench/jobs_throughput.py [--tasks 2000] [--commands 200]

1. No-op tasks: enqueue ``--tasks`` tasks, then run them all, on our local queue (its dispatcher,
   4 at a time, leases and all) and on huey's ``SqliteHuey`` (enqueue, then dequeue and execute each,
   as huey's consumer does), in this run, on this machine; prints both rates and their ratio.
2. ``--commands`` async commands through the HTTP app (in-process, sandbox mode) until every job
   succeeded: jobs per second and the steps the sandbox holds (must equal ``--commands``).

Ratios, not absolute numbers, are what compare across machines.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import httpx

from virtuoso_api.api_keys.models import ApiKeyCreate, Scope
from virtuoso_api.app import create_app
from virtuoso_api.config import Settings
from virtuoso_api.infra.tasks import Delivery, Finished, LocalDispatcher, NewTask, SqliteTaskQueue, TaskRetry
from virtuoso_api.infra.tasks.dispatcher import dispatching
from virtuoso_api.kit.clock import SystemClock


async def ours(count: int, folder: Path) -> float:
    queue = SqliteTaskQueue(folder / "tasks.sqlite3", clock=SystemClock(), retry=TaskRetry())

    async def noop(_: Delivery) -> Finished:
        return Finished()

    started = time.perf_counter()
    for n in range(count):
        await queue.enqueue(NewTask(name=f"t{n}", kind="command", payload={"n": n}))
    dispatcher = LocalDispatcher(queue, noop, concurrency=4, lease_seconds=30, poll_seconds=0.01)
    async with dispatching(dispatcher):
        while dispatcher.finished < count:
            await asyncio.sleep(0.005)
    elapsed = time.perf_counter() - started
    await queue.close()
    return count / elapsed


def huey_rate(count: int, folder: Path) -> float:
    from huey import SqliteHuey  # type: ignore[import-untyped]

    huey = SqliteHuey(filename=str(folder / "huey.db"))

    @huey.task()  # type: ignore[untyped-decorator]
    def noop(n: int) -> int:
        return n

    started = time.perf_counter()
    for n in range(count):
        noop(n)
    ran = 0
    while (task := huey.dequeue()) is not None:
        huey.execute(task)
        ran += 1
    elapsed = time.perf_counter() - started
    assert ran == count
    return count / elapsed


async def end_to_end(commands: int, folder: Path) -> tuple[float, int]:
    settings = Settings(_env_file=None, data_dir=folder / "e2e", virtuoso_sandbox=True, log_level="WARNING")
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        services = app.state.services
        key, _ = await services.api_keys.create(ApiKeyCreate(name="bench", scopes=[Scope.WRITE]))
        headers = {"X-API-Key": key}
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench", headers=headers) as http:
            started = time.perf_counter()
            ids = []
            for n in range(commands):
                body = {"command": "step-misc", "args": ["comment", f"c{n}"], "checkpoint_id": 1001}
                ids.append((await http.post("/api/v1/commands/async", json=body)).json()["job_id"])
            while True:
                stats = (await services.jobs.stats()).jobs
                if stats["succeeded"] + stats["failed"] >= commands:
                    break
                await asyncio.sleep(0.05)
            elapsed = time.perf_counter() - started
        steps = len(await services.virtuoso.client.list_steps(1001))
        if stats["failed"]:
            raise SystemExit(f"{stats['failed']} jobs failed")
    return commands / elapsed, steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--commands", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        local = asyncio.run(ours(args.tasks, base))
        theirs = huey_rate(args.tasks, base)
        ratio = local / theirs
        print(f"no-op tasks: local queue {local:,.0f}/s, huey SqliteHuey {theirs:,.0f}/s, ratio {ratio:.2f}")
        rate, steps = asyncio.run(end_to_end(args.commands, base))
        print(f"{args.commands} async commands end to end: {rate:,.1f} jobs/s, {steps} steps in the sandbox")
        if steps != args.commands:
            raise SystemExit(f"expected {args.commands} steps, found {steps}")


if __name__ == "__main__":
    main()
