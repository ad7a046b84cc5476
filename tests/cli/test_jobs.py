"""``virtuoso-api jobs list|show|cancel|wait``, run in-process through typer's runner against the
store a serving process uses: here the service runs in a thread of the test (its own event loop,
its dispatcher running the jobs into the sandbox), sharing ``DATA_DIR`` with the CLI."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from typer.testing import CliRunner

from virtuoso_api.api_keys.models import Principal, Scope
from virtuoso_api.cli import app
from virtuoso_api.config import Environment, Settings
from virtuoso_api.jobs.models import AsyncBatchRequest, AsyncCommandRequest
from virtuoso_api.sandbox import SEED
from virtuoso_api.services import Services

T = TypeVar("T")
Call = Callable[[Callable[[Services], Awaitable[T]]], T]
AUTHOR = Principal(key_id="", user_id="author", name="author", scopes=frozenset({Scope.READ, Scope.WRITE}))
BOUND_SECONDS = 60  # a bound on waiting for the service's thread, never a measurement

runner = CliRunner()


class Service:
    """The service with its background work (the local dispatcher) in a thread of its own."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._services: Services | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._loop.run_until_complete, args=(self._main(),))

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        async with Services.running(self._settings, background=True) as services:
            self._services = services
            self._ready.set()
            await self._stop.wait()

    def __enter__(self) -> Service:
        self._thread.start()
        assert self._ready.wait(BOUND_SECONDS), "the service did not start"
        return self

    def __exit__(self, *_: object) -> None:
        assert self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(BOUND_SECONDS)
        self._loop.close()

    def call(self, work: Callable[[Services], Awaitable[T]]) -> T:
        assert self._services is not None
        services = self._services
        return asyncio.run_coroutine_threadsafe(_awaited(work(services)), self._loop).result(BOUND_SECONDS)

    def comment(self, value: str, *, checkpoint_id: int = SEED.checkpoint_id, delay: int = 0) -> str:
        """A command job adding a comment step."""
        request = AsyncCommandRequest(
            command="step-misc", args=["comment", value], checkpoint_id=checkpoint_id, delay_seconds=delay
        )
        return self.call(lambda s: _job_id(s.jobs.submit_command(AUTHOR, request)))

    def batch(self, *values: str) -> str:
        commands = [{"command": "step-misc", "args": ["comment", value]} for value in values]
        request = AsyncBatchRequest.model_validate(
            {"commands": commands, "checkpoint_id": SEED.checkpoint_id}
        )
        return self.call(lambda s: _job_id(s.jobs.submit_batch(AUTHOR, request)))


async def _awaited(work: Awaitable[T]) -> T:
    return await work


async def _job_id(submitting: Awaitable[tuple[Any, bool]]) -> str:
    accepted, _ = await submitting
    job_id: str = accepted.job_id
    return job_id


@pytest.fixture
def service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Service]:
    data_dir = tmp_path / "data"
    monkeypatch.setenv("DATA_DIR", str(data_dir))  # what the CLI reads
    settings = Settings(
        _env_file=None, environment=Environment.TEST, data_dir=data_dir, virtuoso_sandbox=True
    )
    with Service(settings) as running:
        yield running


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["jobs", *args])
    return result.exit_code, result.stdout, result.stderr


def test_wait_follows_a_job_to_success_then_list_and_show_find_it(service: Service) -> None:
    job_id = service.batch("one", "two", "three")
    code, out, err = invoke("wait", job_id, "--interval", "0.05")
    assert code == 0, err
    progress = err.splitlines()
    assert progress[-1] == f"{job_id}: succeeded 3/3 (attempt 1)"
    assert all(line.startswith(f"{job_id}: ") for line in progress)
    lines = out.splitlines()
    assert lines[0].startswith(f"{job_id}  batch   succeeded 3/3  author  ")
    assert lines[1] == "attempts 1 of 5, queue virtuoso-batch"
    assert [line.split()[:2] for line in lines[2:]] == [
        ["[0]", "succeeded"],
        ["[1]", "succeeded"],
        ["[2]", "succeeded"],
    ]
    assert lines[2].endswith("at position 1")

    code, out, _ = invoke("list", "--json")
    assert code == 0
    assert [(j["job_id"], j["status"], j["progress"]) for j in json.loads(out)["jobs"]] == [
        (job_id, "succeeded", {"done": 3, "total": 3})
    ]
    assert invoke("list", "--status", "failed")[1] == "No jobs.\n"
    code, out, _ = invoke("list", "--kind", "batch", "--user", "author")
    assert (code, out.split()[:3]) == (0, [job_id, "batch", "succeeded"])
    code, out, _ = invoke("show", job_id, "--json")
    assert (code, json.loads(out)["result"]["succeeded"]) == (0, 3)


def test_wait_exits_1_when_the_job_failed(service: Service) -> None:
    job_id = service.comment("nowhere", checkpoint_id=999_999)
    code, out, err = invoke("wait", job_id, "--interval", "0.05")
    assert code == 1
    assert err.splitlines()[-1] == f"{job_id}: failed 1/1 (attempt 1)"
    assert "error: checkpoint 999999 was not found in Virtuoso" in out
    assert out.endswith(f"Job {job_id} failed.\n")
    code, out, _ = invoke("wait", job_id, "--json")
    assert code == 1
    assert json.loads(out)["error"]["status"] == 404  # --json: only the job on stdout, still exit 1


def test_wait_gives_up_after_its_timeout_showing_where_the_job_is(service: Service) -> None:
    job_id = service.comment("tomorrow", delay=86_400)
    code, out, err = invoke("wait", job_id, "--timeout", "0.2", "--interval", "0.05")
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        f"{job_id}: queued 0/1 (attempt 0)",
        f"error: job {job_id} is still queued after 0.2s",
    ]


def test_cancel_a_queued_job_and_then_a_finished_one(service: Service) -> None:
    job_id = service.comment("tomorrow", delay=86_400)
    code, out, _ = invoke("cancel", job_id)
    assert (code, out) == (0, f"Job {job_id} cancelled.\n")
    assert json.loads(invoke("show", job_id, "--json")[1])["status"] == "cancelled"
    code, out, err = invoke("cancel", job_id)
    assert (code, out, err) == (1, "", f"error: job {job_id} has already cancelled\n")
    steps = service.call(lambda s: s.virtuoso.client.list_steps(SEED.checkpoint_id))
    assert steps == []


@pytest.mark.parametrize("verb", ["show", "cancel", "wait"])
def test_an_unknown_job_exits_3_saying_so(service: Service, verb: str) -> None:
    code, out, err = invoke(verb, "job_0123456789abcdef")
    assert (code, out, err) == (3, "", "error: job job_0123456789abcdef not found\n")


@pytest.mark.parametrize(
    ("job_id", "shown"),
    [
        ("../../etc/passwd", "'../../etc/passwd'"),
        ("job_\u202eevil", "'job_\\u202eevil'"),  # a bidi override is shown escaped, never raw
        ("x" * 10_000, "'" + "x" * 40 + "'..."),
    ],
)
def test_a_hostile_job_id_exits_3_with_the_id_escaped_and_cut_short(
    service: Service,
    job_id: str,
    shown: str,
) -> None:
    code, out, err = invoke("show", job_id)
    assert (code, out) == (3, "")
    assert err == f"error: job {shown} not found: job ids look like job_5d2776f59ef2fc3e\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["list", "--status", "done"], "error: --status/--kind: 'done' is not a valid JobStatus\n"),
        (["list", "--kind", "suites"], "error: --status/--kind: 'suites' is not a valid JobKind\n"),
    ],
)
def test_a_bad_filter_exits_2_naming_it(args: list[str], message: str) -> None:
    code, out, err = invoke(*args)
    assert (code, out, err) == (2, "", message)


def test_a_bad_number_exits_2() -> None:
    assert invoke("list", "--limit", "0")[0] == 2
    assert invoke("wait", "job_0123456789abcdef", "--timeout", "-1")[0] == 2
