"""CPU per call of the Virtuoso client over each transport, against the same sandbox, in one run.

The sandbox runs as its own process (``virtuoso-api sandbox``); this process makes step POSTs through
:class:`~virtuoso_api.virtuoso.VirtuosoClient`, in rounds that alternate the transports (aiohttp, as
``build_virtuoso_http`` makes it, and an ``httpx.AsyncClient`` built as the floor builds its own),
``--concurrency`` calls in flight, each round on fresh checkpoints. It prints this process's CPU per
call (``time.process_time``: all threads) for each, and the ratio httpx/aiohttp. What the module
docstring of ``virtuoso/_transport.py`` cites.

    .venv/bin/python bench/virtuoso_client.py [--calls 2000] [--rounds 3] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from _wrk import free_port

from virtuoso_api.virtuoso import Transport, VirtuosoClient, build_virtuoso_http
from virtuoso_api.virtuoso.steps import ParsedStep, StepAction, StepCreate

CLI = Path(sys.executable).parent / "virtuoso-api"
TOKEN = "bench-token"
GOAL_ID, SNAPSHOT_ID = 201, 301  # the sandbox's seeded goal and snapshot

Make = Callable[[str], Transport | httpx.AsyncClient]


def transports(timeout: float = 30.0) -> dict[str, Make]:
    return {
        "aiohttp": lambda base: build_virtuoso_http(base, timeout=timeout),
        "httpx": lambda base: httpx.AsyncClient(base_url=base, timeout=timeout),
    }


async def one_round(base: str, make: Make, calls: int, concurrency: int) -> float:
    """CPU seconds per call for ``calls`` step POSTs, ``concurrency`` at a time, one checkpoint each."""
    http = make(base)
    client = VirtuosoClient(http, token=TOKEN, org_id=None)
    try:
        checkpoints = [
            (await client.create_checkpoint(GOAL_ID, SNAPSHOT_ID, title="bench")).id
            for _ in range(concurrency)
        ]
        for checkpoint in checkpoints:  # warm: connections open, first-call imports done
            await _step(client, checkpoint, 1)

        async def worker(checkpoint: int, count: int) -> None:
            for index in range(count):
                await _step(client, checkpoint, index + 2)

        started = time.process_time()
        share = calls // concurrency
        await asyncio.gather(*(worker(checkpoint, share) for checkpoint in checkpoints))
        return (time.process_time() - started) / (share * concurrency)
    finally:
        await http.aclose()


async def _step(client: VirtuosoClient, checkpoint: int, index: int) -> None:
    step = ParsedStep(action=StepAction.COMMENT, value="x")
    await client.create_step(StepCreate(checkpoint_id=checkpoint, step_index=index, parsed_step=step))


async def measure(base: str, options: argparse.Namespace) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {name: [] for name in transports()}
    for index in range(options.rounds):
        names = list(transports().items())
        for name, make in names if index % 2 == 0 else reversed(names):
            results[name].append(await one_round(base, make, options.calls, options.concurrency))
    return results


def wait_for(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the sandbox exited with {process.returncode}")
        try:
            answer = httpx.get(f"{base}/testcases/1001", headers={"Authorization": f"Bearer {TOKEN}"})
            if answer.status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise SystemExit("the sandbox did not start in 30 s")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="step POSTs per round per transport")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8)
    options = parser.parse_args(argv)
    port = free_port()
    base = f"http://127.0.0.1:{port}/api"
    command = [str(CLI), "sandbox", "--port", str(port), "--token", TOKEN]
    with tempfile.TemporaryDirectory(prefix="virtuoso-client-bench-") as folder:
        log = (Path(folder) / "sandbox.log").open("wb")
        sandbox = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={k: v for k, v in os.environ.items() if not k.startswith("VIRTUOSO_")},
        )
        try:
            wait_for(base, sandbox)
            results = asyncio.run(measure(base, options))
        finally:
            sandbox.terminate()
            sandbox.wait(timeout=10)
            log.close()
    calls = options.calls // options.concurrency * options.concurrency
    print(f"{options.rounds} round(s) of {calls} step POSTs per transport, {options.concurrency} in flight")
    for name, values in results.items():
        low, high = min(values) * 1e3, max(values) * 1e3
        print(f"  {name:8} CPU ms/call median {statistics.median(values) * 1e3:.3f} ({low:.3f}-{high:.3f})")
    ratios = [h / a for a, h in zip(results["aiohttp"], results["httpx"], strict=True)]
    print(
        f"  httpx/aiohttp, round by round: median {statistics.median(ratios):.2f}x "
        f"({min(ratios):.2f}-{max(ratios):.2f})"
    )


if __name__ == "__main__":
    main()
