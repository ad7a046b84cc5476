"""``virtuoso-api suite run FILE...``: suite files into Virtuoso, several at once, with live progress,
a summary table, ``--json`` and ``--junit``.

Every file is parsed first (one bad file: exit 2, nothing touched). Then up to ``SUITE_PARALLELISM``
files run at once, sharing one run's look-ups (a project two files name is found, or created, once);
each file's steps go in order. Exit codes as for ``runs``: 0 every file passed (or, without
``--execute``, every step is in), 1 a run's tests failed, 2 bad input (a file, an option, an unknown
project, goal or checkpoint id), 3 a file could not complete (a step refused, Virtuoso unreachable, a
run that did not finish).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from virtuoso_api.services import Services
    from virtuoso_api.suites import Suite
    from virtuoso_api.suites.results import SuiteRunResult


@dataclass(frozen=True)
class SuiteRunOptions:
    execute: bool
    project: str | None
    checkpoint_id: int | None
    continue_on_error: bool
    as_json: bool
    junit: Path | None
    user: str


def run_suites(suites: list[Suite], options: SuiteRunOptions) -> None:
    from virtuoso_api.cli.runs_cmd import _run

    async def work(services: Services) -> int:
        results = await _run_all(services, suites, options)
        return await _finish(services, results, options)

    _run(work)


async def _run_all(services: Services, suites: list[Suite], options: SuiteRunOptions) -> list[SuiteRunResult]:
    from virtuoso_api.api_keys.models import Principal, Scope
    from virtuoso_api.cli._suite_progress import SuiteProgress
    from virtuoso_api.history.models import Source
    from virtuoso_api.kit.ids import new_id
    from virtuoso_api.suites.placement import Lookups, PlacementOptions
    from virtuoso_api.suites.runner import DirectSink, RunOptions, SuiteRunner

    settings = services.settings
    caller = Principal(key_id="cli", user_id=options.user, name="cli", scopes=frozenset(Scope))
    runner = SuiteRunner(
        lookups=Lookups(services.virtuoso.client),
        runs=services.runs,
        clock=services.clock,
        caller=caller,
        source=Source.CLI,
    )
    run_options = RunOptions(
        execute=options.execute,
        continue_on_error=True if options.continue_on_error else None,
        placement=PlacementOptions(
            project=options.project,
            checkpoint_id=options.checkpoint_id,
            default_project=settings.suite_default_project,
        ),
    )
    slots = asyncio.Semaphore(settings.suite_parallelism)

    with SuiteProgress(suites) as progress:

        async def one(index: int, suite: Suite) -> SuiteRunResult:
            async with slots:
                result = runner.new_result(suite, new_id("suite"), run_options)
                sink = DirectSink(services.commands, caller, Source.CLI)
                return await runner.run(suite, result, run_options, sink, progress.observer(index))

        return list(await asyncio.gather(*(one(index, suite) for index, suite in enumerate(suites))))


def exit_code(results: list[SuiteRunResult]) -> int:
    from virtuoso_api.cli.runs_cmd import RunExit
    from virtuoso_api.suites.results import SuiteStatus

    if any(_refused_input(result) for result in results):
        return RunExit.USAGE
    statuses = {result.status for result in results}
    if SuiteStatus.FAILED in statuses:
        return RunExit.FAILED
    if statuses - {SuiteStatus.PASSED, SuiteStatus.ADDED}:
        return RunExit.INCOMPLETE
    return RunExit.PASSED


def _refused_input(result: SuiteRunResult) -> bool:
    """Nothing placed because what was named is wrong: an unknown --project, --checkpoint or goal
    id, a goal to create without a starting URL (bad input, exit 2, as for ``runs``)."""
    error = result.error or {}
    return result.placement is None and error.get("status") in (400, 404, 422)


async def _finish(services: Services, results: list[SuiteRunResult], options: SuiteRunOptions) -> int:
    from virtuoso_api.cli._runtime import err, print_json
    from virtuoso_api.cli.runs_cmd import _write
    from virtuoso_api.suites.junit import suite_junit

    for result in results:
        for warning in result.warnings:
            err.print(f"{warning} (warning)")
        if result.error is not None:
            err.print(f"{result.source}: error: {result.error.get('message', result.error.get('type'))}")
    if options.junit is not None:
        _write(options.junit, await suite_junit(services.runs, results))
    if options.as_json:
        documents = [result.cli_json() for result in results]
        print_json(documents[0] if len(documents) == 1 else documents)
    else:
        _print_summary(results)
        if options.junit is not None:
            err.print(f"JUnit XML written to {options.junit}")
    return exit_code(results)


def _print_summary(results: list[SuiteRunResult]) -> None:
    from rich.table import Table

    from virtuoso_api.cli._runtime import out

    table = Table(box=None)
    table.add_column("FILE", overflow="fold")
    table.add_column("SUITE", overflow="fold")
    for column in ("JOURNEY", "STEPS", "RUN", "OUTCOME", "STATUS"):
        table.add_column(column, no_wrap=True)
    for result in results:
        placement = result.placement
        run = result.run
        table.add_row(
            result.source,
            result.name,
            str(placement.journey_id) if placement and placement.journey_id else "-",
            f"{result.added}/{result.total_steps}",
            str(result.execution_id) if result.execution_id else "-",
            (run.outcome or run.status or "-") if run else "-",
            result.status.value.upper(),
        )
    out.print(table)
    for result in results:
        for line in _notes(result):
            out.print(f"{result.source}: {line}")


def _notes(result: SuiteRunResult) -> list[str]:
    """What a reader wants under the table: what was made or kept, the first failure, the link."""
    notes: list[str] = []
    placement = result.placement
    if placement is not None:
        kept = [c for c in placement.checkpoints if c.unchanged]
        replaced = sum(c.replaced_steps for c in placement.checkpoints)
        if placement.created:
            notes.append("created " + ", ".join(placement.created))
        if kept:
            notes.append(
                f"{len(kept)} checkpoint{'s' if len(kept) != 1 else ''} unchanged since the last run, kept"
            )
        if replaced:
            notes.append(f"{replaced} steps of an earlier run replaced")
    failed = next(
        (s for s in result.steps if not s.success and (s.error or {}).get("type") != "skipped"), None
    )
    if failed is not None:
        notes.append(f"line {failed.line}: {failed.command}: {(failed.error or {}).get('message', 'failed')}")
    link = result.links.run or result.links.project
    if link:
        notes.append(link)
    return notes
