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

Needs wrk on PATH (``apt-get install -y wrk``); ``--profile`` also needs py-spy.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CLI = BIN / "virtuoso-api"
FLOOR = Path(__file__).resolve().parent / "floor.py"
TOKEN = "bench-token"
ORG_ID = "2242"
# The sandbox's seeded goal and snapshot (virtuoso_api.sandbox.seed), which new checkpoints hang off.
GOAL_ID, SNAPSHOT_ID = 201, 301
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

TARGET_THROUGHPUT = 0.6  # service / floor requests per second, at least
TARGET_CPU = 2.0  # service / floor CPU per request, at most
TARGET_HELP_S = 0.5
TARGET_READY_S = 1.5
TARGET_RSS_MIB = 150.0

# One script for both sides, so the client does the same work for each. `response` counts non-2xx
# itself: wrk's own count lets 3xx through. `done` prints one JSON line for this program to read.
WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-API-Key"] = os.getenv("BENCH_API_KEY")

-- One body per checkpoint of the round; each thread walks them from its own offset, so requests in
-- flight at once mostly go to different checkpoints (as many authors at work, not one).
local bodies = {}
for line in string.gmatch(os.getenv("BENCH_BODIES"), "[^\\n]+") do table.insert(bodies, line) end
local threads = {}
function setup(thread)
  thread:set("offset", #threads * 7)
  table.insert(threads, thread)
end
function init(args) non2xx = 0; first_bad = ""; counter = offset or 0 end
function request()
  counter = counter + 1
  return wrk.format(nil, nil, nil, bodies[(counter % #bodies) + 1])
end
function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    -- The first refusal of each thread, so a failed run says what went wrong.
    if first_bad == "" then first_bad = status .. " " .. string.gsub(string.sub(body, 1, 300), "\\n", " ") end
  end
end
function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("non2xx")
    local sample = thread:get("first_bad")
    if sample ~= "" then io.write("REFUSED " .. sample .. "\\n") end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "non2xx": %d, "socket_errors": %d, ' ..
    '"p50_us": %d, "p99_us": %d}\\n',
    summary.requests, summary.duration, bad, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


class BenchError(Exception):
    """The run cannot measure: a server did not start, or a round had failures."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def cpu_seconds(pid: int) -> float:
    """User + system time of every thread of ``pid`` so far."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    # The command name may hold spaces and parentheses: count fields from after its closing one.
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise BenchError(f"no VmRSS for process {pid}")


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def tail(self, lines: int = 15) -> str:
        text = self.log.read_text(errors="replace").splitlines()
        return "\n".join(f"    {line}" for line in text[-lines:])

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        # SIGINT is uvicorn's graceful stop: the service flushes its store as it would in production.
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


def clean_environment(**extra: str) -> dict[str, str]:
    """This process's environment without any setting the service reads, plus ``extra``."""
    prefixes = ("VIRTUOSO_", "USE_", "GCP_", "FIRESTORE_", "PUBSUB_", "API_KEY_", "SESSION_", "CACHE_")
    names = {"DATA_DIR", "HOST", "PORT", "LOG_LEVEL", "ENVIRONMENT", "CORS_ORIGINS"}
    kept = {k: v for k, v in os.environ.items() if not k.startswith(prefixes) and k not in names}
    return kept | extra


def start(name: str, command: Sequence[str | Path], env: dict[str, str], workdir: Path) -> Server:
    log = workdir / f"{name}.log"
    with log.open("ab") as sink:
        # cwd is the temporary folder, so no .env of the repository's or the caller's is read.
        process = subprocess.Popen(
            [str(part) for part in command], stdout=sink, stderr=subprocess.STDOUT, env=env, cwd=workdir
        )
    return Server(name, process, log)


def wait_until(
    server: Server, url: str, *, headers: dict[str, str] | None = None, timeout: float = 30.0
) -> float:
    """Seconds until ``url`` answers 200; fails at once if the server exits first."""
    started = time.perf_counter()
    with httpx.Client(timeout=2.0, headers=headers) as http:
        while True:
            if server.process.poll() is not None:
                raise BenchError(f"{server.name} exited with {server.process.returncode}:\n{server.tail()}")
            try:
                if http.get(url).status_code == 200:
                    return time.perf_counter() - started
            except httpx.TransportError:
                pass  # not listening yet
            if time.perf_counter() - started > timeout:
                raise BenchError(f"{server.name} not ready at {url} after {timeout:.0f} s:\n{server.tail()}")
            time.sleep(0.005)


@dataclass
class Round:
    requests: int
    seconds: float
    non2xx: int
    socket_errors: int
    p50_ms: float
    p99_ms: float
    server_cpu: float
    sandbox_cpu: float
    #: The first non-2xx answer of each wrk thread (status and the start of the body).
    refused: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


@dataclass
class Side:
    name: str
    url: str
    server: Server
    rounds: dict[int, list[Round]] = field(default_factory=dict)

    def body(self, checkpoint: int) -> str:
        if self.name == "floor":
            return json.dumps({"checkpoint_id": checkpoint})
        return json.dumps({"command": "step-misc", "args": ["comment", "x"], "checkpoint_id": checkpoint})


class Bench:
    def __init__(self, options: argparse.Namespace, workdir: Path, stack: ExitStack) -> None:
        self.options = options
        self.workdir = workdir
        self.stack = stack
        self.script = workdir / "post.lua"
        self.script.write_text(WRK_SCRIPT)
        self.sandbox_port = free_port()
        self.sandbox_api = f"http://127.0.0.1:{self.sandbox_port}/api"
        self.data_dir = workdir / "data"
        self.service_env = clean_environment(
            VIRTUOSO_BASE_URL=self.sandbox_api,
            VIRTUOSO_API_TOKEN=TOKEN,
            VIRTUOSO_ORG_ID=ORG_ID,
            DATA_DIR=str(self.data_dir),
        )
        self.api_key = ""
        self.sandbox: Server | None = None
        self.http = stack.enter_context(
            httpx.Client(base_url=self.sandbox_api, headers={"Authorization": f"Bearer {TOKEN}"})
        )

    def launch(self, name: str, command: Sequence[str | Path], env: dict[str, str]) -> Server:
        server = start(name, command, env, self.workdir)
        self.stack.callback(server.stop)
        return server

    def start_sandbox(self) -> None:
        command: list[str | Path] = [CLI, "sandbox", "--port", str(self.sandbox_port), "--token", TOKEN]
        self.sandbox = self.launch("sandbox", command, clean_environment())
        # The seeded checkpoint: a 200 means the server listens and takes our token.
        wait_until(self.sandbox, f"{self.sandbox_api}/testcases/1001", headers=dict(self.http.headers))

    def start_floor(self) -> Side:
        port = free_port()
        options = ["--port", str(port), "--upstream", self.sandbox_api, "--token", TOKEN]
        command: list[str | Path] = [sys.executable, FLOOR, *options]
        server = self.launch("floor", command, clean_environment())
        url = f"http://127.0.0.1:{port}/step"
        wait_until(server, f"http://127.0.0.1:{port}/docs")
        return Side("floor", url, server)

    def create_key(self) -> None:
        command = [str(CLI), "keys", "create", "--name", "bench", "--scopes", "admin", "--json"]
        done = subprocess.run(
            command, env=self.service_env, cwd=self.workdir, capture_output=True, timeout=60, check=False
        )
        if done.returncode != 0:
            raise BenchError(f"keys create exited {done.returncode}: {done.stderr.decode(errors='replace')}")
        self.api_key = json.loads(done.stdout)["key"]

    def start_service(self, name: str = "service") -> tuple[Server, int, float]:
        """The service, its port and the seconds from starting the process to /health/ready's 200."""
        port = free_port()
        started = time.perf_counter()
        server = self.launch(name, [CLI, "serve", "--port", str(port)], self.service_env)
        wait_until(server, f"http://127.0.0.1:{port}/health/ready")
        return server, port, time.perf_counter() - started

    def new_checkpoint(self) -> int:
        answer = self.http.post(
            "/testcases", json={"goalId": GOAL_ID, "snapshotId": SNAPSHOT_ID, "title": "bench"}
        )
        answer.raise_for_status()
        checkpoint: int = answer.json()["item"]["id"]
        return checkpoint

    def round(self, side: Side, connections: int, seconds: float) -> Round:
        assert self.sandbox is not None
        count = self.options.checkpoints or 2 * connections
        bodies = "\n".join(side.body(self.new_checkpoint()) for _ in range(count))
        env = os.environ | {"BENCH_BODIES": bodies, "BENCH_API_KEY": self.api_key}
        threads = max(1, min(connections, os.cpu_count() or 1, 4))
        command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "10s"]
        before = cpu_seconds(side.server.pid), cpu_seconds(self.sandbox.pid)
        done = subprocess.run(
            [*command, "-s", str(self.script), side.url],
            env=env,
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=False,
        )
        # Requests wrk abandoned at its deadline may still be running in the servers: let them finish
        # inside this round's CPU window rather than the next one's.
        time.sleep(0.3)
        after = cpu_seconds(side.server.pid), cpu_seconds(self.sandbox.pid)
        line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH ")), None)
        if done.returncode != 0 or line is None:
            raise BenchError(f"wrk exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
        result = json.loads(line.removeprefix("BENCH "))
        return Round(
            requests=result["requests"],
            seconds=result["duration_us"] / 1e6,
            non2xx=result["non2xx"],
            socket_errors=result["socket_errors"],
            p50_ms=result["p50_us"] / 1000,
            p99_ms=result["p99_us"] / 1000,
            server_cpu=after[0] - before[0],
            sandbox_cpu=after[1] - before[1],
            refused=[
                x.removeprefix("REFUSED ") for x in done.stdout.splitlines() if x.startswith("REFUSED ")
            ],
        )


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
    py_spy = shutil.which("py-spy") or str(BIN / "py-spy")
    if not Path(py_spy).exists():
        return "profile: py-spy not found (pip install py-spy)"
    flags = f"--pid {service.server.pid} --duration {seconds:g} --rate 200 --format speedscope --nonblocking"
    record = subprocess.Popen(
        [py_spy, "record", *flags.split(), "--output", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    bench.round(service, connections, seconds + 1)
    _, problem = record.communicate(timeout=60)
    if record.returncode != 0:
        return f"profile: py-spy exited {record.returncode}: {problem.decode(errors='replace').strip()}"
    summary = f"profile: {out} (speedscope; {seconds:g} s of the service at concurrency {connections})"
    return "\n".join([summary, *hot_spots(out)])


def run(options: argparse.Namespace) -> int:
    if shutil.which("wrk") is None:
        print("wrk is not on PATH: apt-get install -y wrk", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="virtuoso-bench-") as folder, ExitStack() as stack:
        workdir = Path(folder)
        bench = Bench(options, workdir, stack)
        lines: list[str] = []

        # On a quiet machine, before any server runs.
        help_s = median_wall([CLI, "--help"], options.help_runs, clean_environment(), workdir)
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

        floor = bench.start_floor()
        server, port, _ = bench.start_service()
        service = Side("service", f"http://127.0.0.1:{port}/api/v1/commands", server)
        time.sleep(1.0)  # let start-up's allocations settle before reading RSS
        idle = rss_mib(server.pid)
        lines.append(
            f"service idle RSS: {idle:.1f} MiB   target <= {TARGET_RSS_MIB:.0f} MiB"
            f"  {verdict(idle <= TARGET_RSS_MIB)}"
        )
        print(*lines, sep="\n", flush=True)

        # Warm-up, not counted: connection pools, first-call imports, the key memo.
        for side in (floor, service):
            warm = bench.round(side, max(options.concurrency), options.warmup)
            if warm.non2xx or warm.socket_errors:
                raise BenchError(f"{side.name} failed during warm-up: {warm}")

        for connections in options.concurrency:
            for index in range(options.rounds):
                # Alternating which side goes first, so neither always runs on the warmer machine.
                order = (floor, service) if index % 2 == 0 else (service, floor)
                for side in order:
                    side.rounds.setdefault(connections, []).append(
                        bench.round(side, connections, options.duration)
                    )
            print("", *report_concurrency(connections, floor, service), sep="\n", flush=True)

        print(f"\nservice RSS after the load: {rss_mib(server.pid):.1f} MiB", flush=True)
        if options.profile is not None:
            connections = options.profile_concurrency
            print(profile(bench, service, connections, options.profile_seconds, options.profile), flush=True)

        failed = [
            f"{side.name} at concurrency {c}: {sum(r.non2xx for r in rs)} non-2xx, "
            f"{sum(r.socket_errors for r in rs)} socket errors"
            for side in (floor, service)
            for c, rs in side.rounds.items()
            if any(r.non2xx or r.socket_errors for r in rs)
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
        if failed:
            raise BenchError("rounds had failures, so the figures above do not count: " + "; ".join(failed))
    return 0


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per round per side (5)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per side per concurrency (3)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[8, 32], help="connections (8 32)")
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
    options = parser.parse_args(argv)
    if options.rounds < 1 or options.duration <= 0 or min(options.concurrency) < 1:
        parser.error("--rounds, --duration and --concurrency must be positive")
    return options


def main() -> None:
    try:
        sys.exit(run(parse()))
    except BenchError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
