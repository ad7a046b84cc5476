"""Suite speed: a 200-step suite file into a sandbox that holds every answer 50 ms (a remote
Virtuoso), against the least Virtuoso itself needs for the same work, sent one request at a time.

    .venv/bin/python bench/suite_speed.py [--steps 200] [--latency-ms 50] [--rounds 3]

Both run in this process, in this run, against one sandbox served on a real socket
(``virtuoso-api sandbox --latency-ms N``):

* **Virtuoso's serial time** (the baseline): a bare httpx client sends, one after the other, only the
  requests the work cannot do without: create the project, the goal (and read its version and first
  journey), create and attach the checkpoint, then one ``POST /teststeps`` per step.
* **ours**: the file parsed and run as ``virtuoso-api suite run`` runs it (``SuiteRunner`` over the
  command service: look-ups, find-or-create, the checkpoint's turn, an in-flight record and a history
  entry per step, events), under a fresh project name each round.

Prints each round's times and the ratio ours ÷ baseline (best of the rounds each); target ≤ 1.15.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from pydantic import SecretStr

from virtuoso_api.api_keys.models import Principal, Scope
from virtuoso_api.config import Settings
from virtuoso_api.history.models import Source
from virtuoso_api.sandbox import SEED
from virtuoso_api.services import Services
from virtuoso_api.suites import Suite, parse_suite
from virtuoso_api.suites.placement import Lookups, PlacementOptions
from virtuoso_api.suites.runner import DirectSink, RunOptions, SuiteRunner

TOKEN = "bench-token"


def suite_text(steps: int) -> str:
    lines = ["name: Speed", "starting_url: https://shop.example.com", "steps:"]
    kinds = (
        "  - click: Button {n}",
        '  - write: {{selector: Field {n}, text: "value {n}"}}',
        "  - assert: Text {n}",
    )
    lines += [kinds[n % len(kinds)].format(n=n) for n in range(steps)]
    return "\n".join(lines) + "\n"


async def baseline(base_url: str, suite: Suite, round_: int) -> float:
    """The requests Virtuoso needs, one at a time, with the payloads our builder makes."""
    payloads = [step.parsed.step.to_payload() for step in suite.steps]
    async with httpx.AsyncClient(
        base_url=base_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30
    ) as http:
        started = time.perf_counter()
        project = (
            await http.post(
                "/projects", json={"name": f"baseline {round_}", "organizationId": SEED.organization_id}
            )
        ).json()["item"]
        goal = (
            await http.post(
                "/goals",
                json={
                    "projectId": project["id"],
                    "name": "Speed",
                    "url": suite.starting_url,
                    "createFirstJourney": True,
                },
            )
        ).json()["item"]
        snapshot = (await http.get(f"/goals/{goal['id']}/versions")).json()["item"]["snapshots"][0][
            "snapshotId"
        ]
        journeys = (await http.get(f"/snapshots/{snapshot}/goals/{goal['id']}/testsuites")).json()["map"]
        journey = next(iter(journeys.values()))["id"]
        checkpoint = (
            await http.post(
                "/testcases", json={"goalId": goal["id"], "snapshotId": snapshot, "title": "Steps"}
            )
        ).json()["item"]["id"]
        await http.post(
            f"/testsuites/{journey}/checkpoints/attach", json={"checkpointId": checkpoint, "position": 2}
        )
        for index, payload in enumerate(payloads, start=1):
            answer = await http.post(
                "/teststeps",
                params={"envelope": "false"},
                json={"checkpointId": checkpoint, "stepIndex": index, "parsedStep": payload},
            )
            answer.raise_for_status()
        return time.perf_counter() - started


async def ours(services: Services, suite: Suite, round_: int) -> float:
    caller = Principal(key_id="bench", user_id="bench", name="bench", scopes=frozenset(Scope))
    runner = SuiteRunner(
        lookups=Lookups(services.virtuoso.client),
        runs=services.runs,
        clock=services.clock,
        caller=caller,
        source=Source.CLI,
    )
    options = RunOptions(placement=PlacementOptions(project=f"ours {round_}"))
    started = time.perf_counter()
    result = runner.new_result(suite, f"bench-{round_}", options)
    result = await runner.run(suite, result, options, DirectSink(services.commands, caller))
    elapsed = time.perf_counter() - started
    if result.added != len(suite.steps):
        raise SystemExit(f"only {result.added} of {len(suite.steps)} steps were added: {result.error}")
    return elapsed


async def measure(base_url: str, steps: int, rounds: int, folder: Path) -> None:
    suite = parse_suite(suite_text(steps), source="speed.yaml")
    settings = Settings(
        _env_file=None,
        data_dir=folder / "data",
        virtuoso_base_url=base_url,  # type: ignore[arg-type]
        virtuoso_api_token=SecretStr(TOKEN),
        virtuoso_org_id=SEED.organization_id,
        log_level="WARNING",
    )
    base_times: list[float] = []
    our_times: list[float] = []
    async with Services.running(settings) as services:
        for round_ in range(rounds):
            base_times.append(await baseline(base_url, suite, round_))
            our_times.append(await ours(services, suite, round_))
            print(f"round {round_ + 1}: Virtuoso serial {base_times[-1]:.2f} s, ours {our_times[-1]:.2f} s")
    best_base, best_ours = min(base_times), min(our_times)
    print(f"{steps} steps: ours {best_ours:.2f} s / Virtuoso's serial time {best_base:.2f} s")
    print(f"ratio {best_ours / best_base:.3f} (target <= 1.15)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--port", type=int, default=8187)
    options = parser.parse_args()
    cli = Path(sys.executable).parent / "virtuoso-api"
    sandbox = subprocess.Popen(
        [
            str(cli),
            "sandbox",
            "--port",
            str(options.port),
            "--token",
            TOKEN,
            "--latency-ms",
            str(options.latency_ms),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "LOG_LEVEL": "WARNING"},
    )
    base_url = f"http://127.0.0.1:{options.port}/api"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{base_url}/projects", headers={"Authorization": f"Bearer {TOKEN}"}).is_success:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        with tempfile.TemporaryDirectory() as folder:
            asyncio.run(measure(base_url, options.steps, options.rounds, Path(folder)))
    finally:
        sandbox.terminate()
        sandbox.wait()


if __name__ == "__main__":
    main()
