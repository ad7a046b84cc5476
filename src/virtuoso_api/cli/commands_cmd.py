"""``virtuoso-api exec`` (run one command against Virtuoso) and ``virtuoso-api commands`` (the catalogue)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from virtuoso_api.commands.models import CommandOutcome

# The command modules import what they need inside each command, not here: the service, the parser
# and pydantic take most of a second to load, and `virtuoso-api --help` must not wait for them.

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def exec_command(
    command: Annotated[str, typer.Argument(help="e.g. step-navigate, create-project (see 'commands')")],
    args: Annotated[list[str] | None, typer.Argument(help="The command's arguments and flags")] = None,
    checkpoint: Annotated[str | None, typer.Option(help="Checkpoint id (456 or cp_456)")] = None,
    session: Annotated[str | None, typer.Option(help="Use this session's checkpoint")] = None,
    user: Annotated[str, typer.Option(help="Whose history and sessions (default: cli)")] = "cli",
    as_json: JsonOption = False,
) -> None:
    """Run one command against Virtuoso (VIRTUOSO_API_TOKEN and VIRTUOSO_BASE_URL) and record it;
    with VIRTUOSO_API_SERVER and VIRTUOSO_API_KEY, through that deployed service instead.

    Without --checkpoint or --session the user's active session gives the checkpoint."""
    import json

    from pydantic import TypeAdapter, ValidationError

    from virtuoso_api.api_keys.models import Principal, Scope
    from virtuoso_api.cli._runtime import Exit, fail, out, print_json, run, settings_or_exit
    from virtuoso_api.cli.remote import remote_service
    from virtuoso_api.commands.models import CommandRequest, ManagementOutcome, StepOutcome
    from virtuoso_api.history.models import Source
    from virtuoso_api.services import Services

    try:
        request = CommandRequest.model_validate(
            {"command": command, "args": args or [], "checkpoint_id": checkpoint, "session_id": session}
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        option = {"checkpoint_id": "--checkpoint", "session_id": "--session"}.get(
            str(first["loc"][0]), "args"
        )
        fail(f"{option}: {str(first['msg']).removeprefix('Value error, ')}", Exit.USAGE)
    caller = Principal(key_id="cli", user_id=user, name="cli", scopes=frozenset(Scope))
    settings = settings_or_exit()
    remote = remote_service(settings)
    if remote is not None and user != "cli":
        fail("--user: a deployed service takes the user from VIRTUOSO_API_KEY", Exit.USAGE)

    async def work() -> CommandOutcome:
        if remote is not None:
            async with remote:
                body = request.model_dump(mode="json", exclude_none=True)
                answer = await remote.json("POST", "/commands", json=body)
            return TypeAdapter(StepOutcome | ManagementOutcome).validate_python(answer)
        async with Services.running(settings) as services:
            return await services.commands.execute(caller, request, source=Source.CLI)

    outcome = run(work())
    if as_json:
        print_json(outcome.model_dump(mode="json"))
    elif isinstance(outcome, StepOutcome):
        out.print(
            f"Step {outcome.step_id} ({outcome.action}) added at position {outcome.position} "
            f"of checkpoint {outcome.checkpoint_id} in {outcome.duration_ms:.0f} ms",
            markup=False,
        )
    else:
        out.print_json(json.dumps(outcome.result))


def commands(
    kind: Annotated[str | None, typer.Option(help="Only step, library or management commands")] = None,
    as_json: JsonOption = False,
) -> None:
    """List every command with its usage and an example."""
    from rich.table import Table

    from virtuoso_api.cli._runtime import out, print_json, run
    from virtuoso_api.commands.vocabulary import catalogue

    entries = [entry for entry in catalogue() if kind is None or entry["kind"] == kind]
    if kind is not None and not entries:
        run(_refuse_kind(kind))
    if as_json:
        print_json(entries)
        return
    table = Table(box=None)
    table.add_column("COMMAND", no_wrap=True)
    table.add_column("USAGE")
    table.add_column("DOES")
    for entry in entries:
        table.add_row(entry["command"], entry["usage"], entry["description"])
    out.print(table)


async def _refuse_kind(kind: str) -> None:
    from virtuoso_api.errors import InvalidInput

    raise InvalidInput("--kind", f"unknown kind {kind!r}; choose from step, library, management")
