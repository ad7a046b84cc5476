"""``virtuoso-api storage``: the blobs' lifecycle (``lifecycle [--dry-run]``), the static assets
(``publish-docs``: the API docs and the reports index), and ``virtuoso-api logs export --since``.

They act on the configured store (the local folder, or Cloud Storage with ``USE_CLOUD_STORAGE``) and
print signed links; what the store does not take now waits in the outbox, flushed as the command
ends (and by a serving process later).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from virtuoso_api.services import Services

app = typer.Typer(help="Blobs: lifecycle rules, published docs and reports index.", no_args_is_help=True)
logs_app = typer.Typer(help="Command logs: export history as gzip NDJSON per day.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


@app.command("lifecycle")
def lifecycle(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would change; change nothing.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Set each bucket's lifecycle rules from the settings and (locally) apply them now; with
    --dry-run, show the rules and the blobs they would move or delete."""
    from virtuoso_api.cli._runtime import out, print_json, run, settings_or_exit
    from virtuoso_api.services import Services

    async def work() -> dict[str, Any]:
        async with Services.running(settings_or_exit()) as services:
            storage = services.storage
            if dry_run:
                changes = await storage.plan()
            else:
                await storage.prepare()
                changes = await storage.sweep()
            rules = {
                storage.buckets[kind]: [_rule(rule) for rule in storage.rules[kind]]
                for kind in storage.buckets.names
            }
            return {
                "backend": storage.store.backend,
                "dry_run": dry_run,
                "rules": rules,
                "changes": [
                    {
                        "bucket": c.bucket,
                        "name": c.name,
                        "action": c.action.value,
                        "storage_class": c.storage_class,
                        "age_days": c.age_days,
                    }
                    for c in changes
                ],
            }

    result = run(work())
    if as_json:
        print_json(result)
        return
    for bucket, rules in result["rules"].items():
        shown = "; ".join(rule["text"] for rule in rules) or "kept (no rule)"
        out.print(f"{bucket}: {shown}")
    verb = "would" if dry_run else "did"
    if not result["changes"]:
        out.print(f"nothing to change now ({result['backend']})")
    for change in result["changes"]:
        what = "delete" if change["action"] == "delete" else f"move to {change['storage_class']}"
        out.print(f"{verb} {what}: {change['bucket']}/{change['name']} ({change['age_days']} days old)")


def _rule(rule: Any) -> dict[str, Any]:
    text = (
        f"delete after {rule.age_days} days"
        if rule.action.value == "delete"
        else f"{rule.storage_class} after {rule.age_days} days"
    )
    return {
        "action": rule.action.value,
        "age_days": rule.age_days,
        "storage_class": rule.storage_class,
        "text": text,
    }


@app.command("publish-docs")
def publish_docs(as_json: JsonOption = False) -> None:
    """Publish the API docs (a page and openapi.json) and the reports index to the static-assets
    bucket; print their signed links."""
    from virtuoso_api.app import create_app
    from virtuoso_api.cli._runtime import out, print_json, run, settings_or_exit

    settings = settings_or_exit()
    document = create_app(settings).openapi()

    async def work() -> dict[str, str]:
        from virtuoso_api.services import Services

        async with Services.running(settings) as services:
            links = await services.reports.publish_docs(document)
            links["reports_index"] = await services.reports.publish_index()
            await _flush(services)
            return links

    links = run(work())
    if as_json:
        print_json(links)
        return
    for name, link in links.items():
        out.print(f"{name}: {link}")


@logs_app.command("export")
def export_logs(
    since: Annotated[str, typer.Option("--since", help="The first day to export (YYYY-MM-DD, UTC).")],
    as_json: JsonOption = False,
) -> None:
    """Export command history from --since to today: one gzip NDJSON blob per day in the
    command-logs bucket (history/YYYY-MM-DD.ndjson.gz)."""
    from virtuoso_api.cli._runtime import Exit, fail, out, print_json, run, settings_or_exit

    try:
        first = date.fromisoformat(since)
    except ValueError:
        fail(f"--since: {since!r:.40} is not a date (YYYY-MM-DD)", Exit.USAGE)

    async def work() -> list[dict[str, Any]]:
        from virtuoso_api.services import Services

        async with Services.running(settings_or_exit()) as services:
            days = await services.log_exporter.export(first)
            await _flush(services)
            return [
                {
                    "day": day.day.isoformat(),
                    "blob": day.name,
                    "entries": day.entries,
                    "delivered": day.delivered,
                }
                for day in days
            ]

    days = run(work())
    if as_json:
        print_json(days)
        return
    if not days:
        out.print(f"no command history since {first.isoformat()}")
    for day in days:
        state = "stored" if day["delivered"] else "accepted (waits in the outbox until storage answers)"
        out.print(f"{day['blob']}: {day['entries']} entries, {state}")


async def _flush(services: Services) -> None:
    """Deliver what waits now, so the command's output is true when it ends (what still cannot be
    delivered stays in the outbox for the server)."""
    import contextlib

    from virtuoso_api.errors import BackendUnavailable

    with contextlib.suppress(BackendUnavailable):
        await services.outbox.flush()
