"""Throughput and CPU of a step command through the service, against a floor, in one run.

Three servers, each its own process on its own port: the Virtuoso sandbox (``virtuoso-api sandbox``),
the floor (``bench/floor.py``: a bare FastAPI endpoint making the one ``POST /teststeps`` a step
needs) and the service (``virtuoso-api serve`` pointed at the sandbox, SQLite in a temporary folder).
wrk drives both sides with the same Lua script, in rounds that alternate floor and service, each
round on fresh checkpoints (twice as many as connections, walked in turn, so concurrent requests
mostly go to different checkpoints; ``--checkpoints 1`` puts a round on one) so both sides append
to lists of the same lengths. For every concurrency
it prints requests/s, the server's CPU per request (``/proc/<pid>/stat`` over the round) and the
sandbox's, with the service/floor ratios; then ``virtuoso-api --help`` wall time, start to ready of
``serve``, and the service's idle RSS, each beside its target.

It measures; it does not judge: a missed target still exits 0. A run that could not measure exits 1:
a server that would not start, or any non-2xx answer or socket error during a round.

    .venv/bin/python bench/throughput.py [--duration 5] [--rounds 3] [--concurrency 8 32]
                                         [--profile /tmp/profile.json]

The servers, the wrk rounds and the command line are ``bench/_wrk.py``'s, shared with
``bench/telemetry_overhead.py``.

Needs wrk on PATH (``apt-get install -y wrk``); ``--profile`` also needs py-spy.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from _wrk import (
    CLI,
    TOKEN,
    Bench,
    BenchError,
    Round,
    Side,
    clean_environment,
    drive,
    failing,
    free_port,
    main,
    record,
    refuse,
    wait_until,
)

FLOOR = Path(__file__).resolve().parent / "floor.py"

TARGET_THROUGHPUT = 0.6  # service / floor requests per second, at least
TARGET_CPU = 2.0  # service / floor CPU per request, at most
TARGET_HELP_S = 0.5
TARGET_READY_S = 1.5
TARGET_RSS_MIB = 150.0


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise BenchError(f"no VmRSS for process {pid}")


def start_floor(bench: Bench) -> Side:
    port = free_port()
    options = ["--port", str(port), "--upstream", bench.sandbox_api, "--token", TOKEN]
    command: list[str | Path] = [sys.executable, FLOOR, *options]
    server = bench.launch("floor", command, clean_environment())
    url = f"http://127.0.0.1:{port}/step"
    wait_until(server, f"http://127.0.0.1:{port}/docs")
    return Side("floor", url, server)


def median_wall(command: Sequence[str | Path], runs: int, env: dict[str, str], workdir: Path) -> float:
    times = []
    for index in range(runs + 1):
        started = time.perf_counter()
        subprocess.run(
            [str(part) for part in command],
            env=env,
            cwd=workdir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=30,
            check=True,
        )
        if index:  # the first run warms the file cache and is not counted
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def report_concurrency(connections: int, floor: Side, service: Side) -> list[str]:
    """Lines for one concurrency; a failure of any round is raised after printing."""
    floor_rounds, service_rounds = floor.rounds[connections], service.rounds[connections]
    # Paired round by round: a drift of the machine's speed during the run moves both alike.
    ratios = [s.rate / f.rate for f, s in zip(floor_rounds, service_rounds, strict=True)]
    ratio = statistics.median(ratios)

    def per_request(rounds: list[Round], sandbox: bool = False) -> float:
        # Summed over the rounds before dividing: one round's CPU is only a few hundred clock ticks.
        cpu = sum(r.sandbox_cpu if sandbox else r.server_cpu for r in rounds)
        return cpu / max(1, sum(r.requests for r in rounds))

    floor_cpu, service_cpu = per_request(floor_rounds), per_request(service_rounds)
    cpu_ratio = service_cpu / floor_cpu if floor_cpu else float("inf")

    def rates(rounds: list[Round]) -> str:
        values = [r.rate for r in rounds]
        return f"{statistics.median(values):8.0f} ({min(values):.0f}-{max(values):.0f})"

    def latency(rounds: list[Round]) -> str:
        p50, p99 = statistics.median(r.p50_ms for r in rounds), statistics.median(r.p99_ms for r in rounds)
        return f"{p50:6.2f} / {p99:6.2f}"

    def failures(rounds: list[Round]) -> str:
        return f"{sum(r.non2xx for r in rounds)} / {sum(r.socket_errors for r in rounds)}"

    rounds, seconds = len(floor_rounds), floor_rounds[0].seconds
    return [
        f"concurrency {connections}: {rounds} round(s) of {seconds:.1f} s per side",
        f"  {'':30}{'floor':>22}{'service':>22}{'service/floor':>16}   target",
        f"  {'requests/s median (min-max)':30}{rates(floor_rounds):>22}{rates(service_rounds):>22}"
        f"{ratio:15.2f}x   >= {TARGET_THROUGHPUT:.2f}x  {verdict(ratio >= TARGET_THROUGHPUT)}",
        f"  {'server CPU ms/request':30}{floor_cpu * 1000:22.3f}{service_cpu * 1000:22.3f}"
        f"{cpu_ratio:15.2f}x   <= {TARGET_CPU:.2f}x  {verdict(cpu_ratio <= TARGET_CPU)}",
        f"  {'sandbox CPU ms/request':30}{per_request(floor_rounds, sandbox=True) * 1000:22.3f}"
        f"{per_request(service_rounds, sandbox=True) * 1000:22.3f}",
        f"  {'latency ms p50 / p99 (median)':30}{latency(floor_rounds):>22}{latency(service_rounds):>22}",
        f"  {'non-2xx / socket errors':30}{failures(floor_rounds):>22}{failures(service_rounds):>22}",
    ]


def hot_spots(speedscope: Path, top: int = 15) -> list[str]:
    """Where the service's busy time went: by own time (top of the stack), and the project's own
    functions by total time (the framework's wrappers are on nearly every stack, so they would fill
    that list and say nothing)."""
    document = json.loads(speedscope.read_text())
    frames = document["shared"]["frames"]
    # py-spy names a frame per line; a function's lines are added up, so a hot function is one row.
    functions = [f"{frame['name']} ({Path(frame.get('file', '?')).name})" for frame in frames]
    # The CLI's frames are only the way in (main, serve) under every request.
    ours = [
        "virtuoso_api" in (file := frame.get("file", "")) and "virtuoso_api/cli" not in file
        for frame in frames
    ]
    own: dict[str, float] = {}
    total: dict[str, float] = {}
    busy = 0.0
    for thread in document["profiles"]:  # weights are seconds: py-spy records only busy samples
        for stack, seconds in zip(thread["samples"], thread["weights"], strict=True):
            if not stack:
                continue
            busy += seconds
            top_frame = functions[stack[-1]]
            own[top_frame] = own.get(top_frame, 0.0) + seconds
            for name in {functions[index] for index in stack if ours[index]}:
                total[name] = total.get(name, 0.0) + seconds
    lines = [f"hot spots: {busy:.2f} s of busy samples in the service (all threads)"]
    for title, table in (("own time", own), ("total time, virtuoso_api functions", total)):
        lines.append(f"  by {title}:")
        ranked = sorted(table.items(), key=lambda item: item[1], reverse=True)[:top]
        lines += [f"    {value / busy:6.1%} {value:6.2f} s  {name}" for name, value in ranked]
    return lines


def profile(bench: Bench, service: Side, connections: int, seconds: float, out: Path) -> str:
    """py-spy's record of the service under one more round of load, in speedscope format."""
    problem = record(bench, service, connections, seconds, rate=200, out=out)
    if problem is not None:
        return problem
    summary = f"profile: {out} (speedscope; {seconds:g} s of the service at concurrency {connections})"
    return "\n".join([summary, *hot_spots(out)])


def run(bench: Bench) -> int:
    options = bench.options
    lines: list[str] = []

    # On a quiet machine, before any server runs.
    help_s = median_wall([CLI, "--help"], options.help_runs, clean_environment(), bench.workdir)
    lines.append(
        f"virtuoso-api --help: {help_s:.3f} s median of {options.help_runs}"
        f"   target <= {TARGET_HELP_S} s  {verdict(help_s <= TARGET_HELP_S)}"
    )

    bench.start_sandbox()
    bench.create_key()
    readies = []
    for index in range(options.ready_runs):
        server, _, seconds = bench.start_service(f"ready-{index}")
        server.stop()
        readies.append(seconds)
    ready_s = statistics.median(readies)
    lines.append(
        f"serve start to ready: {ready_s:.3f} s median of {len(readies)}"
        f"   target <= {TARGET_READY_S} s  {verdict(ready_s <= TARGET_READY_S)}"
    )

    floor = start_floor(bench)
    service = bench.service_side("service")
    time.sleep(1.0)  # let start-up's allocations settle before reading RSS
    idle = rss_mib(service.server.pid)
    lines.append(
        f"service idle RSS: {idle:.1f} MiB   target <= {TARGET_RSS_MIB:.0f} MiB"
        f"  {verdict(idle <= TARGET_RSS_MIB)}"
    )
    print(*lines, sep="\n", flush=True)

    drive(bench, (floor, service), lambda connections: report_concurrency(connections, floor, service))

    print(f"\nservice RSS after the load: {rss_mib(service.server.pid):.1f} MiB", flush=True)
    if options.profile is not None:
        connections = options.profile_concurrency
        print(profile(bench, service, connections, options.profile_seconds, options.profile), flush=True)

    failed = [
        f"{side.name} at concurrency {c}: {sum(r.non2xx for r in rs)} non-2xx, "
        f"{sum(r.socket_errors for r in rs)} socket errors"
        for side, c, rs in failing((floor, service))
    ]
    refusals = sorted(
        {
            answer
            for side in (floor, service)
            for rs in side.rounds.values()
            for r in rs
            for answer in r.refused
        }
    )
    failed += [f"answered {answer}" for answer in refusals[:5]]
    refuse(failed)
    return 0


def options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--checkpoints",
        type=int,
        default=0,
        help="fresh checkpoints per round per side (default: twice the connections; 1 = all on one)",
    )
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of uncounted load per side (2)")
    parser.add_argument("--help-runs", type=int, default=5, help="timed runs of virtuoso-api --help (5)")
    parser.add_argument("--ready-runs", type=int, default=3, help="timed starts of serve (3)")
    parser.add_argument("--profile", type=Path, help="also record the service with py-spy into this file")
    parser.add_argument("--profile-seconds", type=float, default=10.0)
    parser.add_argument("--profile-concurrency", type=int, default=8, help="connections while profiling (8)")


if __name__ == "__main__":
    main(__doc__, options, run)
