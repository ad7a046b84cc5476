"""``virtuoso-api events``: follow the event stream from the command line.

``tail`` reads the journal in the data folder: the local bus itself, or (with ``USE_PUBSUB``) the
mirror of the topic, which this command fills from a subscription of its own while it runs.
"""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(help="Follow events as they are published.", no_args_is_help=True)


@app.command("tail")
def tail(
    types: Annotated[
        str | None,
        typer.Option("--types", help="Comma-separated event types, e.g. command.executed,run.finished."),
    ] = None,
    user: Annotated[
        str | None, typer.Option("--user", help="Only this user's events. Default: everyone's.")
    ] = None,
    after: Annotated[
        str | None, typer.Option("--after", help="Start after this event id (a Last-Event-ID).")
    ] = None,
    from_start: Annotated[
        bool, typer.Option("--from-start", help="Start at the oldest event kept, not at the next one.")
    ] = False,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Stop after this many events.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One CloudEvents JSON object per line.")] = False,
) -> None:
    """Print events as they come (Ctrl-C stops), oldest first."""
    import asyncio
    import contextlib
    import json

    from virtuoso_api.cli._runtime import Exit, fail, out, run, settings_or_exit
    from virtuoso_api.errors import InvalidInput
    from virtuoso_api.events.stream import Reset
    from virtuoso_api.services import Services
    from virtuoso_api.stream.endpoints import parse_types

    try:
        wanted = parse_types(types)
    except InvalidInput as exc:
        fail(f"--types: {exc.reason}", Exit.USAGE)

    async def work() -> None:
        async with Services.running(settings_or_exit()) as services:
            mirror = services.events.cli_mirror()
            task = asyncio.create_task(mirror.run_forever()) if mirror is not None else None
            shown = 0
            try:
                async for item in services.events.follow(
                    owner=user, types=wanted, after_id=after, from_start=from_start
                ):
                    if isinstance(item, Reset):
                        typer.echo(
                            f"note: event {item.unknown_id} is not in the journal; following new events",
                            err=True,
                        )
                        continue
                    if as_json:
                        out.print(item.message.data.decode(), markup=False, highlight=False, soft_wrap=True)
                    else:
                        event = json.loads(item.message.data)
                        out.print(
                            f"{event['time']}  {event['type']:<24} {event['owner']:<16} "
                            f"{event.get('subject') or '-':<24} {event['id']}  {json.dumps(event['data'])}",
                            markup=False,
                            highlight=False,
                        )
                    shown += 1
                    if limit is not None and shown >= limit:
                        return
            finally:
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
                    if mirror is not None:
                        with contextlib.suppress(Exception):
                            await mirror.bus.delete_subscription(mirror.spec.name)

    with contextlib.suppress(KeyboardInterrupt):
        run(work())
