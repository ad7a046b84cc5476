"""The ``virtuoso-api`` command line."""

from __future__ import annotations

from typing import Annotated

import typer

from virtuoso_api import __version__
from virtuoso_api.cli import (
    events_cmd,
    gcp_cmd,
    jobs_cmd,
    keys,
    runs_cmd,
    secrets_cmd,
    suite_cmd,
    webhooks_cmd,
)
from virtuoso_api.cli.commands_cmd import commands, exec_command
from virtuoso_api.cli.sandbox_cmd import sandbox
from virtuoso_api.cli.serve import serve

# Only typer and the commands' signatures load here; each command imports the service, settings and
# the rest when it runs, so `--help` and `version` start in a fraction of a second.

app = typer.Typer(
    name="virtuoso-api",
    help="Author and run Virtuoso tests: the service, its API keys and its commands.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command("serve")(serve)
app.command("sandbox")(sandbox)
app.command("exec", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(exec_command)
app.command("commands")(commands)
app.add_typer(keys.app, name="keys")
app.add_typer(suite_cmd.app, name="suite")
app.add_typer(jobs_cmd.app, name="jobs")
app.add_typer(runs_cmd.app, name="runs")
app.add_typer(secrets_cmd.app, name="secrets")
app.add_typer(events_cmd.app, name="events")
app.add_typer(webhooks_cmd.app, name="webhooks")
app.add_typer(gcp_cmd.app, name="gcp")


@app.command("config")
def config(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Print the effective settings (environment, .env and defaults), secrets masked."""
    from virtuoso_api.cli._runtime import out, print_json, settings_or_exit

    view = settings_or_exit().public_view()
    if as_json:
        print_json(view)
        return
    width = max(len(name) for name in view)
    for name, value in view.items():
        shown = ",".join(value) if isinstance(value, list) else ("" if value is None else value)
        out.print(f"{name:<{width}}  {shown}")


@app.command("version")
def version() -> None:
    """Print the version."""
    # typer.echo prints the same line as the rich console in _runtime, without importing the settings.
    typer.echo(__version__)


def main() -> None:
    app()
