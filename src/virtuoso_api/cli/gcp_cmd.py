"""``virtuoso-api gcp bootstrap``: create what the enabled ``USE_*`` flags need on Google Cloud."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="Google Cloud: create the resources the enabled flags need.", no_args_is_help=True)


@app.command("bootstrap")
def bootstrap(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Read and report what would be made; change nothing.")
    ] = False,
    environment: Annotated[
        str | None,
        typer.Option("--environment", help="The environment whose secrets to make. Default: ENVIRONMENT."),
    ] = None,
    project_number: Annotated[
        str | None,
        typer.Option(
            "--project-number",
            help="The project's number, for the Pub/Sub service agent's dead-letter bindings.",
        ),
    ] = None,
    indexes: Annotated[Path, typer.Option("--indexes", help="The Firestore index file.")] = Path(
        "firestore.indexes.json"
    ),
) -> None:
    """Create, idempotently, the queues, topics, subscriptions, secrets, indexes and TTL policies the
    enabled flags need (a second run changes nothing), printing what it did or would do."""
    import importlib.util

    from virtuoso_api.cli._runtime import Exit, fail, out, run, settings_or_exit

    settings = settings_or_exit(environment=environment)
    if project_number is not None and not project_number.isdigit():
        fail("--project-number: must be the project's number (digits), not its id", Exit.USAGE)
    if not settings.enabled_gcp_services():
        fail("nothing to do: no USE_* flag is on (see deploy/README.md)", Exit.USAGE)
    if importlib.util.find_spec("google.api_core") is None:
        fail("the Google Cloud libraries are missing: pip install 'virtuoso-api[gcp]'", Exit.USAGE)

    from virtuoso_api.gcp.bootstrap import Action, BootstrapOptions, Change
    from virtuoso_api.gcp.bootstrap import bootstrap as provision

    def report(change: Change) -> None:
        out.print(change.line(dry_run=dry_run), markup=False)

    options = BootstrapOptions(project_number=project_number, indexes=indexes)
    head = "Would make, in" if dry_run else "Bootstrapping"
    out.print(f"{head} project {settings.gcp_project_id} ({settings.environment.value}):", markup=False)
    changes = run(provision(settings, options, dry_run=dry_run, report=report))
    made = sum(c.action in (Action.CREATE, Action.UPDATE) for c in changes)
    kept = sum(c.action is Action.KEEP for c in changes)
    manual = sum(c.action is Action.MANUAL for c in changes)
    verb = "would change" if dry_run else "changed"
    out.print(f"{verb} {made}, unchanged {kept}, to do by hand {manual}", markup=False)
