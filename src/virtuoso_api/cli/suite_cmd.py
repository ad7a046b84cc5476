"""``virtuoso-api suite``: check suite files, show the commands they become (``run --dry-run``), and
run them (``run``: ``suite_run.py``).

Exit codes of ``validate``: 0 every file is a valid suite, 2 a file (or an option) is not. Findings
of ``validate`` are its output and go to stdout as ``file:line: ...``; the closing verdict goes to
stderr.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

if TYPE_CHECKING:
    from virtuoso_api.cli._suites_backend import SuiteFile
    from virtuoso_api.suites import Suite, SuiteInvalid

# As in the other command modules, the parser loads when a command runs, not when --help does.

app = typer.Typer(help="Validate and run test suite files (YAML or JSON).", no_args_is_help=True)

FilesArgument = Annotated[list[str], typer.Argument(help="Suite files, YAML or JSON ('-' reads stdin)")]
VarOption = Annotated[
    list[str] | None,
    typer.Option("--var", metavar="NAME=VALUE", help="A variable, over the file's own (repeatable)"),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def _read(path: str) -> tuple[str, bytes]:
    """The file's name for messages and its bytes (at most one byte past the limit, to refuse it)."""
    from virtuoso_api.suites import MAX_SOURCE_BYTES, Problem, SuiteInvalid

    try:
        if path == "-":
            return "<stdin>", sys.stdin.buffer.read(MAX_SOURCE_BYTES + 1)
        with Path(path).open("rb") as handle:
            return path, handle.read(MAX_SOURCE_BYTES + 1)
    except OSError as exc:
        raise SuiteInvalid(path, [Problem(None, "", f"cannot be read: {exc.strerror or exc}")]) from None


def _parse(path: str, variables: dict[str, str]) -> Suite | SuiteInvalid:
    from virtuoso_api.suites import SuiteInvalid

    loaded = _load(path, variables)
    return loaded if isinstance(loaded, SuiteInvalid) else loaded.suite


def _load(path: str, variables: dict[str, str]) -> SuiteFile | SuiteInvalid:
    """The file parsed, with its text (a deployed service is sent the text and parses it again)."""
    from virtuoso_api.cli._suites_backend import SuiteFile
    from virtuoso_api.suites import SuiteInvalid, parse_suite

    try:
        source, content = _read(path)
        syntax: Literal["json"] | None = "json" if source.lower().endswith(".json") else None
        suite = parse_suite(content, source=source, syntax=syntax, variables=variables)
    except SuiteInvalid as exc:
        return exc
    # parse_suite read these bytes as UTF-8 (a byte-order mark dropped), so this cannot fail.
    return SuiteFile(suite=suite, text=content.decode("utf-8-sig"), syntax=syntax)


def _variables(assignments: list[str] | None) -> dict[str, str]:
    from virtuoso_api.cli._runtime import Exit, fail
    from virtuoso_api.errors import InvalidInput
    from virtuoso_api.suites import parse_assignments

    try:
        return parse_assignments(assignments or [])
    except InvalidInput as exc:
        fail(exc.message, Exit.USAGE)


def _report(result: Suite | SuiteInvalid, path: str) -> dict[str, object]:
    from virtuoso_api.suites import SuiteInvalid
    from virtuoso_api.suites.views import Finding

    if isinstance(result, SuiteInvalid):
        errors = [Finding.of(problem).model_dump() for problem in result.problems]
        return {"file": path, "valid": False, "errors": errors, "warnings": []}
    return {
        "file": path,
        "valid": True,
        "name": result.name,
        "dialect": result.dialect.value,
        "steps": len(result.steps),
        "errors": [],
        "warnings": [Finding.of(warning).model_dump() for warning in result.warnings],
    }


@app.command("validate")
def validate(files: FilesArgument, var: VarOption = None, as_json: JsonOption = False) -> None:
    """Check each file: OK with its dialect and step count, or every problem with its line."""
    from virtuoso_api.cli._runtime import Exit, err, out, print_json
    from virtuoso_api.suites import SuiteInvalid

    variables = _variables(var)
    results = [(path, _parse(path, variables)) for path in files]
    invalid = sum(isinstance(result, SuiteInvalid) for _, result in results)
    if as_json:
        print_json([_report(result, path) for path, result in results])
    else:
        for path, result in results:
            if isinstance(result, SuiteInvalid):
                out.print(f"FAIL  {path}")
                for problem in result.problems:
                    out.print(f"  {problem.located(result.source)}")
                continue
            count = len(result.steps)
            out.print(f"OK    {path}  ({result.dialect.value}, {count} step{'s' if count != 1 else ''})")
            for warning in result.warnings:
                out.print(f"  {warning.located(result.source)} (warning)")
    if invalid:
        err.print(f"error: {invalid} of {len(results)} file{'s' if len(results) != 1 else ''} not valid")
        raise typer.Exit(Exit.USAGE)


@app.command("run")
def run(
    files: FilesArgument,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the steps each file becomes; touch nothing")
    ] = False,
    execute: Annotated[
        bool, typer.Option("--execute", help="Run each journey once its steps are in, and wait for it")
    ] = False,
    project: Annotated[
        str | None, typer.Option("--project", metavar="NAME|ID", help="The project (over the file's)")
    ] = None,
    checkpoint: Annotated[
        int | None,
        typer.Option(
            "--checkpoint", metavar="ID", min=1, help="Append the steps to this existing checkpoint"
        ),
    ] = None,
    var: VarOption = None,
    continue_on_error: Annotated[
        bool, typer.Option("--continue-on-error", help="Go on adding steps after one fails")
    ] = False,
    as_json: JsonOption = False,
    junit: Annotated[
        Path | None, typer.Option("--junit", metavar="PATH", help="Write the results as JUnit XML")
    ] = None,
    user: Annotated[str, typer.Option(help="Who runs it, in history and run records")] = "cli",
) -> None:
    """Run suite files: find or create their project, goal, journey and checkpoints, add the steps
    in order, and with --execute run each journey and wait for its outcome. Exit codes as for
    `runs`: 0 passed (or steps added), 1 a test failed, 2 bad input, 3 could not complete."""
    from virtuoso_api.cli._runtime import Exit, err, fail
    from virtuoso_api.suites import SuiteInvalid

    variables = _variables(var)
    if dry_run and (execute or junit or project or checkpoint or continue_on_error):
        fail("--dry-run touches nothing: drop --execute, --junit, --project, --checkpoint", Exit.USAGE)
    results = [_load(path, variables) for path in files]
    refused = [result for result in results if isinstance(result, SuiteInvalid)]
    if refused:
        for result in refused:
            for problem in result.problems:
                err.print(problem.located(result.source))
        fail(f"{len(refused)} of {len(results)} file{'s' if len(results) != 1 else ''} not valid", Exit.USAGE)
    loaded = [result for result in results if not isinstance(result, SuiteInvalid)]
    suites = [file.suite for file in loaded]
    if not dry_run and checkpoint is None:
        _refuse_shared_journeys(suites)
    if dry_run:
        _dry_run(suites, files, as_json)
        return
    from virtuoso_api.cli.suite_run import SuiteRunOptions, run_suites

    run_suites(
        loaded,
        SuiteRunOptions(
            execute=execute,
            project=project,
            checkpoint_id=checkpoint,
            continue_on_error=continue_on_error,
            as_json=as_json,
            junit=junit,
            user=user,
            variables=variables,
        ),
    )


def _refuse_shared_journeys(suites: list[Suite]) -> None:
    """Two files of one run that would land in one journey would replace each other's steps."""
    from virtuoso_api.cli._runtime import Exit, fail

    seen: dict[tuple[object, ...], str] = {}
    for suite in suites:
        infrastructure = suite.infrastructure
        if infrastructure.checkpoint is not None and infrastructure.checkpoint.id is not None:
            continue  # appended to a checkpoint of its own choosing
        key = (
            infrastructure.project,
            infrastructure.goal or suite.name,
            infrastructure.journey or suite.name,
        )
        if key in seen:
            fail(
                f"{seen[key]} and {suite.source} would go to the same journey ({suite.name!r}): "
                "give them different names, or run them one after the other",
                Exit.USAGE,
            )
        seen[key] = suite.source


def _dry_run(suites: list[Suite], files: list[str], as_json: bool) -> None:
    from virtuoso_api.cli._runtime import print_json
    from virtuoso_api.suites.views import SuitePlan

    plans = [SuitePlan.of(suite) for suite in suites]
    if as_json:
        documents = [plan.model_dump(mode="json") for plan in plans]
        print_json(documents[0] if len(documents) == 1 else documents)
        return
    for plan, path in zip(plans, files, strict=True):
        _print_plan(plan, path)


def _print_plan(plan: object, path: str) -> None:
    import shlex

    from rich.table import Table

    from virtuoso_api.cli._runtime import out
    from virtuoso_api.suites.views import SuitePlan

    assert isinstance(plan, SuitePlan)
    out.print(f"{plan.name}  ({plan.dialect.value}, {len(plan.steps)} steps, {path})")
    table = Table(box=None)
    table.add_column("LINE", justify="right", no_wrap=True)
    table.add_column("COMMAND", no_wrap=True)
    table.add_column("ARGS")
    for step in plan.steps:
        table.add_row(str(step.line), step.command, shlex.join(step.args))
    out.print(table)
    for warning in plan.warnings:
        out.print(f"{path}:{warning.line}: {warning.field}: {warning.message} (warning)")
