"""What full telemetry costs on the sync command path: the service with it on against the same
service with it off, in one run.

On ``bench/_wrk.py``, as ``bench/throughput.py`` is: one Virtuoso sandbox process, two
``virtuoso-api serve`` processes on one data folder and key (``TELEMETRY_ENABLED=false`` and the
default, on: the request span and duration, the httpx span and ``traceparent`` on each Virtuoso
call, the command's metrics through its event, the JSON-free default log), and wrk sending the same
``step-misc`` commands to both, in rounds that alternate which side goes first, each round on fresh
checkpoints. For every concurrency it prints requests/s, the server's CPU per request
(``/proc/<pid>/stat``) and p50/p99 latency for each side, with the on/off ratios. A third side,
``--sampled``, runs telemetry on with ``TRACE_SAMPLING_RATIO`` at that value (unsampled spans are
the cheap non-recording kind).

``--profile`` then records the telemetry-on service with py-spy under one more round and prints the
share of its busy samples spent in telemetry's own code (OpenTelemetry, the httpx instrumentation,
``virtuoso_api/telemetry``) and not in the work that code wraps: a figure a busy machine moves far
less than it moves the ratios.

It measures; it does not judge (exit 0 whatever the ratios). A run that could not measure exits 1.

    .venv/bin/python bench/telemetry_overhead.py [--duration 5] [--rounds 3] [--concurrency 8 32]
                                                 [--sampled 0.1] [--profile]

Needs wrk on PATH (``apt-get install -y wrk``); ``--profile`` also needs py-spy.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Sequence
from pathlib import Path

from _wrk import Bench, Round, Side, drive, failing, main, record, refuse

#: Frames of the instrumentation itself.
TELEMETRY = ("opentelemetry", "virtuoso_api/telemetry", "/wrapt/", "prometheus_client")
#: Frames of the work the instrumentation wraps (the app, the transport, the store).
WORK = ("starlette", "fastapi", "httpcore", "h11", "anyio", "uvicorn", "sqlite", "virtuoso_api/")


def report(connections: int, baseline: Side, sides: Sequence[Side]) -> list[str]:
    def rate(rounds: list[Round]) -> float:
        return statistics.median(r.rate for r in rounds)

    def cpu(rounds: list[Round]) -> float:
        # Summed before dividing: one round's CPU is only a few hundred clock ticks.
        return sum(r.server_cpu for r in rounds) / max(1, sum(r.requests for r in rounds))

    def latency(rounds: list[Round]) -> str:
        p50, p99 = statistics.median(r.p50_ms for r in rounds), statistics.median(r.p99_ms for r in rounds)
        return f"{p50:.2f} / {p99:.2f}"

    base = baseline.rounds[connections]
    lines = [
        f"concurrency {connections}: {len(base)} round(s) of {base[0].seconds:.1f} s per side",
        f"  {'side':24}{'requests/s':>12}{'vs off':>9}{'CPU ms/req':>12}{'vs off':>9}{'p50 / p99 ms':>18}",
    ]
    for side in (baseline, *sides):
        rounds = side.rounds[connections]
        # Paired round by round: a drift of the machine's speed moves both sides alike.
        ratio = statistics.median(s.rate / b.rate for b, s in zip(base, rounds, strict=True))
        cpu_ratio = cpu(rounds) / cpu(base) if cpu(base) else float("inf")
        lines.append(
            f"  {side.name:24}{rate(rounds):12.0f}{ratio:8.2f}x{cpu(rounds) * 1000:12.3f}{cpu_ratio:8.2f}x"
            f"{latency(rounds):>18}"
        )
    return lines


def telemetry_share(bench: Bench, side: Side, seconds: float) -> list[str]:
    """py-spy's samples of ``side`` under one more round, and the share whose innermost frames are
    telemetry's own (deeper than any frame of the work it wraps), by the outermost such frame."""
    out = bench.workdir / "telemetry.speedscope.json"
    problem = record(bench, side, 8, seconds, rate=250, out=out)
    if problem is not None:
        return [problem]
    document = json.loads(out.read_text())
    files = [frame.get("file", "") for frame in document["shared"]["frames"]]
    names = [
        f"{frame['name']} ({Path(frame.get('file', '?')).name})" for frame in document["shared"]["frames"]
    ]
    busy = spent = 0.0
    by_entry: dict[str, float] = {}
    for thread in document["profiles"]:
        for stack, weight in zip(thread["samples"], thread["weights"], strict=True):
            if not stack:
                continue
            busy += weight
            ours = [depth for depth, index in enumerate(stack) if any(m in files[index] for m in TELEMETRY)]
            work = [
                depth
                for depth, index in enumerate(stack)
                if any(m in files[index] for m in WORK) and depth not in ours
            ]
            deepest_work = max(work, default=-1)
            own = [depth for depth in ours if depth > deepest_work]
            if own:
                spent += weight
                entry = names[stack[own[0]]]
                by_entry[entry] = by_entry.get(entry, 0.0) + weight
    lines = [
        f"profile of {side.name!r}: {spent / busy:.1%} of {busy:.2f} s of busy samples in telemetry's code"
    ]
    ranked = sorted(by_entry.items(), key=lambda item: item[1], reverse=True)[:8]
    lines += [f"  {value / busy:6.1%}  {name}" for name, value in ranked]
    return lines


def run(bench: Bench) -> int:
    options = bench.options
    bench.start_sandbox()
    bench.create_key()
    off = bench.service_side("telemetry off", TELEMETRY_ENABLED="false")
    sides = [bench.service_side("telemetry on")]
    if options.sampled is not None:
        name = f"on, sampled {options.sampled:g}"
        sides.append(bench.service_side(name, TRACE_SAMPLING_RATIO=str(options.sampled)))
    everyone = [off, *sides]
    time.sleep(1.0)
    drive(bench, everyone, lambda connections: report(connections, off, sides))
    if options.profile:
        print("", *telemetry_share(bench, sides[0], options.profile_seconds), sep="\n", flush=True)
    refuse([f"{side.name} at concurrency {c}" for side, c, _ in failing(everyone)])
    return 0


def options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of uncounted load per side (2)")
    parser.add_argument("--sampled", type=float, help="also a side with TRACE_SAMPLING_RATIO at this value")
    parser.add_argument("--profile", action="store_true", help="also profile the telemetry-on service")
    parser.add_argument("--profile-seconds", type=float, default=8.0)
    parser.add_argument(
        "--checkpoints", type=int, default=0, help="fresh checkpoints per round (2 x connections)"
    )


if __name__ == "__main__":
    main(__doc__, options, run)
