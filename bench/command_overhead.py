"""What the service adds to a step command, measured against the Virtuoso call it wraps.

Baseline: the client appending a step straight to the in-process sandbox (list + create, the two calls
a command makes). Measured: ``POST /api/v1/commands`` through the whole app (request id, API key,
parsing, session lookup, the same two calls, history). Both run in this process over ASGI, in the same
run, so the ratio is what the service costs, not what the network does.

    .venv/bin/python bench/command_overhead.py [--steps 300]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from virtuoso_api.api_keys.models import ApiKeyCreate
from virtuoso_api.app import create_app
from virtuoso_api.config import Environment, Settings
from virtuoso_api.sandbox import SEED
from virtuoso_api.virtuoso.steps import ParsedStep, StepAction


async def main(steps: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            _env_file=None, environment=Environment.TEST, data_dir=Path(folder), virtuoso_sandbox=True
        )
        app = create_app(settings)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as http,
        ):
            services = app.state.services
            key, _ = await services.api_keys.create(ApiKeyCreate(name="bench"))
            client = services.virtuoso.client
            journey = await client.get_journey(SEED.journey_id)

            async def fresh_checkpoint() -> int:
                # A new checkpoint per round, so both sides append to lists of the same length.
                checkpoint: int = (await client.add_checkpoint(journey, "bench")).id
                return checkpoint

            baseline_checkpoint = await fresh_checkpoint()
            service_checkpoint = await fresh_checkpoint()
            step = ParsedStep(action=StepAction.COMMENT, value="x")
            body = {"command": "step-misc", "args": ["comment", "x"], "checkpoint_id": service_checkpoint}
            headers = {"X-API-Key": key}

            baseline, service = [], []
            for _ in range(steps):  # interleaved, so drift in the machine hits both alike
                started = time.perf_counter()
                await client.append_step(baseline_checkpoint, step)
                baseline.append(time.perf_counter() - started)
                started = time.perf_counter()
                response = await http.post("/api/v1/commands", json=body, headers=headers)
                service.append(time.perf_counter() - started)
                assert response.status_code == 201, response.text

    def ms(values: list[float]) -> str:
        ordered = sorted(values)
        p95 = ordered[int(len(ordered) * 0.95) - 1]
        return f"median {statistics.median(values) * 1000:7.3f} ms   p95 {p95 * 1000:7.3f} ms"

    print(f"steps per side:            {steps}")
    print(f"baseline (client only):    {ms(baseline)}")
    print(f"service (POST /commands):  {ms(service)}")
    ratio = statistics.median(service) / statistics.median(baseline)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"ratio service / baseline:  {ratio:.2f}x (median)")
    print(f"peak RSS:                  {peak_mib:.0f} MiB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    asyncio.run(main(parser.parse_args().steps))
