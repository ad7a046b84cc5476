"""``virtuoso-api suite run FILE...``: suite files into Virtuoso, several at once, with live progress,
a summary table, ``--json`` and ``--junit``.

Every file is parsed first (one bad file: exit 2, nothing touched). Then up to ``SUITE_PARALLELISM``
files run at once, sharing one run's look-ups (a project two files name is found, or created, once);
each file's steps go in order. Exit codes as for ``runs``: 0 every file passed (or, without
``--execute``, every step is in), 1 a run's tests failed, 2 bad input (a file, an option, an unknown
project, goal or checkpoint id), 3 a file could not complete (a step refused, Virtuoso unreachable, a
run that did not finish).

With ``VIRTUOSO_API_SERVER`` and ``VIRTUOSO_API_KEY`` set, each file is sent to the deployed service
(``POST /api/v1/suites/runs``) and followed there (``_suites_backend.py``): the same progress, the
same table, ``--json`` and exit codes, the JUnit XML the service writes.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from virtuoso_api.cli._suites_backend import SuiteRunOptions

if TYPE_CHECKING:
    from virtuoso_api.cli._suites_backend import SuiteFile, SuitesBackend
    from virtuoso_api.suites.results import SuiteRunResult

__all__ = ["SuiteRunOptions", "exit_code", "run_suites"]


def run_suites(files: list[SuiteFile], options: SuiteRunOptions) -> None:
    """Run the files here, or through the deployed service (``VIRTUOSO_API_SERVER``): the backend
    is chosen as for ``runs``, and prints and exits the same either way."""
    from virtuoso_api.cli._runtime import settings_or_exit
    from virtuoso_api.cli._suites_backend import LocalSuites, RemoteSuites
    from virtuoso_api.cli.runs_cmd import _run

    parallelism = settings_or_exit().suite_parallelism

    async def work(suites: SuitesBackend) -> int:
        results = await _run_all(suites, files, options, parallelism)
        return await _finish(suites, results, options)

    _run(work, user=options.user, local=LocalSuites, remote=RemoteSuites)


async def _run_all(
    backend: SuitesBackend, files: list[SuiteFile], options: SuiteRunOptions, parallelism: int
) -> list[SuiteRunResult]:
    from virtuoso_api.cli._suite_progress import SuiteProgress

    slots = asyncio.Semaphore(parallelism)
    with SuiteProgress([file.suite for file in files]) as progress:

        async def one(index: int, file: SuiteFile) -> SuiteRunResult:
            async with slots:
                return await backend.run(file, options, progress.observer(index))

        return list(await asyncio.gather(*(one(index, file) for index, file in enumerate(files))))


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


async def _finish(backend: SuitesBackend, results: list[SuiteRunResult], options: SuiteRunOptions) -> int:
    from virtuoso_api.cli._runtime import err, out, print_json
    from virtuoso_api.cli.runs_cmd import _write

    for result in results:
        for warning in result.warnings:
            err.print(f"{warning} (warning)")
        if result.error is not None:
            err.print(f"{result.source}: error: {result.error.get('message', result.error.get('type'))}")
    reports = [await backend.report(result) for result in results]
    if options.junit is not None:
        _write(options.junit, await backend.junit(results))
    if options.as_json:
        documents = [
            result.cli_json() | ({"report": link} if link else {})
            for result, link in zip(results, reports, strict=True)
        ]
        print_json(documents[0] if len(documents) == 1 else documents)
    else:
        _print_summary(results)
        for result, link in zip(results, reports, strict=True):
            if link:
                out.print(f"{result.source}: report {link}")
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
