"""``virtuoso-api runs start|status``: run goals, journeys and plans from CI, with exit codes to trust.

Exit codes (stable, documented in the README):

    0  the tests passed (every run FINISHED with outcome PASS)
    1  tests failed (a run FINISHED with outcome FAIL or ERROR)
    2  bad input or configuration (an unknown goal, journey or plan, a refused token, a bad option)
    3  a run did not complete: CANCELED, FAILED, still running when --timeout passed, or Virtuoso
       unreachable

Progress goes to stderr (a live bar on a terminal, a line per change otherwise), the summary and
``--json`` to stdout, so ``--json`` output stays parseable.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from collections.abc import Callable

    from virtuoso_api.cli._runs_backend import RunsBackend
    from virtuoso_api.cli.remote import RemoteService
    from virtuoso_api.runs import RunView, StartedRuns
    from virtuoso_api.services import Services

# Heavy imports (the service, pydantic models, rich) happen inside the commands: `--help` stays fast.

app = typer.Typer(
    help="Start runs on Virtuoso (goals, journeys, plans) and follow them to their outcome.",
    no_args_is_help=True,
)


class RunExit:
    PASSED = 0
    FAILED = 1
    USAGE = 2
    INCOMPLETE = 3


JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
WaitOption = Annotated[bool, typer.Option("--wait", help="Follow the run(s) until they end.")]
TimeoutOption = Annotated[
    float | None,
    typer.Option("--timeout", min=0.0, help="With --wait: give up after this many seconds (exit 3)."),
]
JunitOption = Annotated[
    Path | None, typer.Option("--junit", help="With --wait: write the results as JUnit XML to this file.")
]
UserOption = Annotated[str, typer.Option(help="Who started the run, in the run records (default: cli)")]


@app.command("start")
def start(
    goal: Annotated[int | None, typer.Option("--goal", min=1, help="Run this goal's journeys.")] = None,
    journey: Annotated[
        list[str] | None,
        typer.Option(
            "--journey", help="With --goal: only this journey (title, name or id); repeat for more."
        ),
    ] = None,
    plan: Annotated[int | None, typer.Option("--plan", min=1, help="Run this plan.")] = None,
    environment: Annotated[
        int | None, typer.Option("--environment", min=1, help="The environment to run in.")
    ] = None,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", help="With --goal: label the run; repeatable.")
    ] = None,
    wait: WaitOption = False,
    timeout: TimeoutOption = None,
    as_json: JsonOption = False,
    junit: JunitOption = None,
    user: UserOption = "cli",
) -> None:
    """Start a goal (all its journeys, or those given with --journey), or a plan."""
    from pydantic import ValidationError

    from virtuoso_api.runs import RunRequest

    _check_follow_options(wait, timeout, junit)
    if (goal is None) == (plan is None):
        _usage("give exactly one of --goal or --plan")
    if plan is not None and (journey or tag):
        _usage("--journey and --tag choose and label a goal's journeys: use them with --goal")
    try:
        request = RunRequest(
            goal_id=goal,
            plan_id=plan,
            journeys=list(journey or []),
            environment_id=environment,
            tags=list(tag or []),
        )
    except ValidationError as exc:
        _usage(_first_problem(exc))

    async def work(runs: RunsBackend) -> int:
        started = await runs.start(request)
        if not wait:
            _print_started(started, as_json=as_json)
            return RunExit.PASSED
        if not as_json:
            _print_started(started, as_json=False)
        return await _follow(runs, started.execution_ids, started, timeout, as_json, junit)

    _run(work, user=user)


@app.command("status")
def status(
    execution_id: Annotated[int, typer.Argument(min=1, help="The run's execution id (what start printed)")],
    wait: WaitOption = False,
    timeout: TimeoutOption = None,
    as_json: JsonOption = False,
    junit: JunitOption = None,
) -> None:
    """Show a run (any run of the organization, not only those started here); --wait follows it."""
    _check_follow_options(wait, timeout, junit, needs_wait_for_junit=False)

    async def work(runs: RunsBackend) -> int:
        if wait:
            return await _follow(runs, [execution_id], None, timeout, as_json, junit)
        view = await runs.status(execution_id)
        return await _finish(runs, [view], None, as_json, junit)

    _run(work)


def _check_follow_options(
    wait: bool, timeout: float | None, junit: Path | None, *, needs_wait_for_junit: bool = True
) -> None:
    if timeout is not None and not wait:
        _usage("--timeout needs --wait")
    if timeout is not None and not math.isfinite(timeout):
        _usage(f"--timeout must be a number of seconds, got {timeout}")
    if junit is not None and needs_wait_for_junit and not wait:
        _usage("--junit needs --wait (the results exist once the run has ended)")


async def _follow(
    runs: RunsBackend,
    execution_ids: list[int],
    started: StartedRuns | None,
    timeout: float | None,
    as_json: bool,
    junit: Path | None,
) -> int:
    import asyncio

    from virtuoso_api.cli._progress import RunProgress

    if not execution_ids:
        _say("Virtuoso named no run to follow (see the note above): not waiting")
        return RunExit.INCOMPLETE
    with RunProgress() as progress:
        views = await asyncio.gather(
            *(
                runs.wait(execution_id, timeout=timeout, on_update=progress.update)
                for execution_id in execution_ids
            )
        )
    return await _finish(runs, list(views), started, as_json, junit)


async def _finish(
    runs: RunsBackend, views: list[RunView], started: StartedRuns | None, as_json: bool, junit: Path | None
) -> int:
    from virtuoso_api.cli._runtime import print_json
    from virtuoso_api.cli._summary import print_summary

    code = exit_code(views)
    if junit is not None:
        _write(junit, await runs.junit(views))
    if as_json:
        payload: dict[str, Any] = {
            "runs": [view.model_dump(mode="json") for view in views],
            "exit_code": code,
        }
        if started is not None:
            payload["started"] = started.model_dump(mode="json")
        print_json(payload)
    else:
        for view in views:
            print_summary(view)
        if junit is not None:
            _say(f"JUnit XML written to {junit}")
    return code


def exit_code(views: list[RunView]) -> int:
    """1 if any run's tests failed (a definite answer CI must see), else 3 if any did not complete,
    else 0."""
    from virtuoso_api.runs import Verdict

    verdicts = {view.verdict for view in views}
    if Verdict.FAILED in verdicts:
        return RunExit.FAILED
    if verdicts - {Verdict.PASSED}:
        return RunExit.INCOMPLETE
    return RunExit.PASSED


def _print_started(started: StartedRuns, *, as_json: bool) -> None:
    from virtuoso_api.cli._runtime import out, print_json

    if as_json:
        print_json(started.model_dump(mode="json"))
        return
    for run in started.runs:
        if run.execution_id is None:
            out.print(f"Started a run, but: {run.note}")
            continue
        what = f"goal {run.goal_id}" if run.goal_id else started.kind.value
        link = f"  {run.ui_url}" if run.ui_url else ""
        out.print(f"Started run {run.execution_id} ({what}): {run.status or 'status unknown'}{link}")


def _write(path: Path, text: str) -> None:
    """Write the file whole or not at all (a half-written report would mislead CI)."""
    import os
    import tempfile

    try:
        directory = path.parent if str(path.parent) else Path(".")
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=directory, prefix=f".{path.name}.", delete=False
        ) as handle:
            handle.write(text)
        os.replace(handle.name, path)
    except OSError as exc:
        _usage(f"--junit {path}: {exc.strerror or exc}")


def _run(
    work: Any,
    *,
    user: str = "cli",
    local: Callable[[Services, str], Any] | None = None,
    remote: Callable[[RemoteService], Any] | None = None,
) -> None:
    """Run ``work(backend)`` and exit with its code, ``backend`` made by ``local`` from the service
    opened here or by ``remote`` for the deployed one (``VIRTUOSO_API_SERVER``); by default the runs
    backends (``suite run`` passes its own). Errors exit 2 (input, configuration) or 3 (Virtuoso or
    the service unreachable, anything that stopped the run being followed)."""
    import asyncio
    import logging

    from virtuoso_api.cli._runs_backend import LocalRuns, RemoteRuns
    from virtuoso_api.cli._runtime import fail, settings_or_exit
    from virtuoso_api.cli.remote import remote_service
    from virtuoso_api.errors import (
        BackendUnavailable,
        BadRequest,
        Forbidden,
        InvalidInput,
        Misconfigured,
        NotFound,
        Unauthorized,
        UpstreamRejected,
        VirtuosoApiError,
    )
    from virtuoso_api.services import Services
    from virtuoso_api.virtuoso.errors import VirtuosoNotConfigured

    settings = settings_or_exit()
    make_local: Callable[[Services, str], Any] = local or LocalRuns
    make_remote: Callable[[RemoteService], Any] = remote or RemoteRuns
    service = remote_service(settings)
    if service is not None and user != "cli":
        fail("--user: a deployed service takes the user from VIRTUOSO_API_KEY", RunExit.USAGE)

    async def main() -> int:
        code: int
        if service is not None:
            async with service:
                code = await work(make_remote(service))
            return code
        async with Services.running(settings) as services:
            code = await work(make_local(services, user))
            return code

    try:
        code = asyncio.run(main())
    except InvalidInput as exc:
        option = "--journey" if exc.field.startswith("journeys[") else exc.field
        fail(f"{option}: {exc.reason}", RunExit.USAGE)
    except (
        BadRequest,
        Misconfigured,
        NotFound,
        Unauthorized,
        Forbidden,
        UpstreamRejected,
        VirtuosoNotConfigured,
    ) as exc:
        fail(exc.message, RunExit.USAGE)
    except BackendUnavailable as exc:
        fail(exc.message, RunExit.INCOMPLETE)
    except VirtuosoApiError as exc:
        fail(exc.message, RunExit.INCOMPLETE)
    except KeyboardInterrupt:
        fail("interrupted: a started run goes on in Virtuoso (follow it with 'runs status ID --wait')", 3)
    except typer.Exit:
        raise  # an exit decided inside (a --junit file that cannot be written, say)
    except Exception as exc:  # a bug of ours must not read as "tests failed" (exit 1) to CI
        logging.getLogger(__name__).exception("runs failed")
        fail(f"the run could not be followed ({type(exc).__name__}); see above", RunExit.INCOMPLETE)
    raise typer.Exit(code)


def _usage(message: str) -> Any:
    from virtuoso_api.cli._runtime import fail

    fail(message, RunExit.USAGE)


def _say(message: str) -> None:
    from virtuoso_api.cli._runtime import err

    err.print(message)


def _first_problem(exc: Any) -> str:
    first = exc.errors()[0]
    options = {"goal_id": "--goal", "plan_id": "--plan", "journeys": "--journey", "tags": "--tag"}
    location = [str(part) for part in first.get("loc", ())]
    option = options.get(location[0], "") if location else ""
    message = str(first.get("msg", "invalid")).removeprefix("Value error, ")
    return f"{option}: {message}" if option else message
