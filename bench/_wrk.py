"""What the wrk benches share (``throughput.py``, ``telemetry_overhead.py``): the servers as processes
(the Virtuoso sandbox, ``virtuoso-api serve`` on SQLite in a temporary folder), an admin key, one wrk
round on fresh checkpoints with the servers' CPU over it, the warm-up and the alternating rounds, a
py-spy record under one more round, and the command line both take.

A round's figures come from wrk's own Lua ``done`` hook (one JSON line), and its CPU from
``/proc/<pid>/stat`` before and after, so a bench compares sides measured the same way.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent
CLI = BIN / "virtuoso-api"
TOKEN = "bench-token"
ORG_ID = "2242"
# The sandbox's seeded goal and snapshot (virtuoso_api.sandbox.seed), which new checkpoints hang off.
GOAL_ID, SNAPSHOT_ID = 201, 301
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

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

    def create_key(self) -> None:
        command = [str(CLI), "keys", "create", "--name", "bench", "--scopes", "admin", "--json"]
        done = subprocess.run(
            command, env=self.service_env, cwd=self.workdir, capture_output=True, timeout=60, check=False
        )
        if done.returncode != 0:
            raise BenchError(f"keys create exited {done.returncode}: {done.stderr.decode(errors='replace')}")
        self.api_key = json.loads(done.stdout)["key"]

    def start_service(self, name: str = "service", **settings: str) -> tuple[Server, int, float]:
        """The service (with ``settings`` over the bench's environment), its port and the seconds from
        starting the process to /health/ready's 200."""
        port = free_port()
        started = time.perf_counter()
        server = self.launch(name, [CLI, "serve", "--port", str(port)], self.service_env | settings)
        wait_until(server, f"http://127.0.0.1:{port}/health/ready")
        return server, port, time.perf_counter() - started

    def service_side(self, name: str, **settings: str) -> Side:
        """A started service as a side whose rounds post commands."""
        server, port, _ = self.start_service(name, **settings)
        return Side(name, f"http://127.0.0.1:{port}/api/v1/commands", server)

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


def drive(bench: Bench, sides: Sequence[Side], report: Callable[[int], list[str]]) -> None:
    """The warm-up, then ``--rounds`` rounds of every side at each ``--concurrency``, printing
    ``report(connections)`` once a concurrency's rounds are done. A failed warm-up raises; failed
    rounds are kept on the sides for :func:`failing` (the figures print first)."""
    options = bench.options
    # Warm-up, not counted: connection pools, first-call imports, the key memo.
    for side in sides:
        warm = bench.round(side, max(options.concurrency), options.warmup)
        if warm.non2xx or warm.socket_errors:
            raise BenchError(f"{side.name} failed during warm-up: {warm}")
    for connections in options.concurrency:
        for index in range(options.rounds):
            # Each round starts with the next side, so none always runs on the warmer machine.
            shift = index % len(sides)
            for side in [*sides[shift:], *sides[:shift]]:
                side.rounds.setdefault(connections, []).append(
                    bench.round(side, connections, options.duration)
                )
        print("", *report(connections), sep="\n", flush=True)


def failing(sides: Sequence[Side]) -> Iterator[tuple[Side, int, list[Round]]]:
    """Each side and concurrency where a round had a non-2xx answer or a socket error."""
    for side in sides:
        for connections, rounds in side.rounds.items():
            if any(r.non2xx or r.socket_errors for r in rounds):
                yield side, connections, rounds


def refuse(failed: Sequence[str]) -> None:
    if failed:
        raise BenchError("rounds had failures, so the figures above do not count: " + "; ".join(failed))


def record(bench: Bench, side: Side, connections: int, seconds: float, *, rate: int, out: Path) -> str | None:
    """py-spy's record of ``side`` into ``out`` (speedscope) for ``seconds``, under one more round
    a second longer; None when it was written, else a line saying why not."""
    py_spy = shutil.which("py-spy") or str(BIN / "py-spy")
    if not Path(py_spy).exists():
        return "profile: py-spy not found (pip install py-spy)"
    flags = f"--pid {side.server.pid} --duration {seconds:g} --rate {rate} --format speedscope --nonblocking"
    recording = subprocess.Popen(
        [py_spy, "record", *flags.split(), "--output", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    bench.round(side, connections, seconds + 1)
    _, problem = recording.communicate(timeout=60)
    if recording.returncode != 0:
        return f"profile: py-spy exited {recording.returncode}: {problem.decode(errors='replace').strip()}"
    return None


def main(
    doc: str | None,
    add_options: Callable[[argparse.ArgumentParser], None],
    run: Callable[[Bench], int],
) -> None:
    """Parse the command line (the load options, then ``add_options``'s), and ``run`` on a bench in a
    temporary folder; every server it started is stopped on the way out. A run that could not measure
    exits 1 with the reason."""
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per round per side (5)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per side per concurrency (3)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[8, 32], help="connections (8 32)")
    add_options(parser)
    options = parser.parse_args()
    if options.rounds < 1 or options.duration <= 0 or min(options.concurrency) < 1:
        parser.error("--rounds, --duration and --concurrency must be positive")
    if shutil.which("wrk") is None:
        print("wrk is not on PATH: apt-get install -y wrk", file=sys.stderr)
        sys.exit(1)
    try:
        with tempfile.TemporaryDirectory(prefix="virtuoso-bench-") as folder, ExitStack() as stack:
            code = run(Bench(options, Path(folder), stack))
    except BenchError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        sys.exit(1)
    sys.exit(code)
