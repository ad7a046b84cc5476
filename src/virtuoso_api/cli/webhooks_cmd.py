"""``virtuoso-api webhooks``: the ``/api/v1/webhooks`` routes, straight against the configured store.

Like ``keys``, these act as the machine's administrator: ``--user`` says whose webhook a new one is
(default ``cli``) and narrows listings; without it, listings show everyone's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

if TYPE_CHECKING:
    from virtuoso_api.services import Services

T = TypeVar("T")

app = typer.Typer(
    help="Create, test and inspect webhooks; list and replay dead letters.", no_args_is_help=True
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
UserOption = Annotated[str | None, typer.Option("--user", help="Whose webhooks (default: everyone's).")]


def _run(work: Callable[[Services], Awaitable[T]]) -> T:
    from virtuoso_api.cli._runtime import run, settings_or_exit
    from virtuoso_api.services import Services

    async def opened() -> T:
        async with Services.running(settings_or_exit()) as services:
            return await work(services)

    return run(opened())


def _show(value: Any, as_json: bool, text: Callable[[Any], str]) -> None:
    from virtuoso_api.cli._runtime import out, print_json

    if as_json:
        print_json(value.model_dump(mode="json") if hasattr(value, "model_dump") else value)
    else:
        out.print(text(value))


def _types(text: str | None) -> list[Any] | None:
    from virtuoso_api.cli._runtime import Exit, fail
    from virtuoso_api.errors import InvalidInput
    from virtuoso_api.stream.endpoints import parse_types

    if text is None:
        return None
    try:
        return sorted(parse_types(text))
    except InvalidInput as exc:
        fail(f"--events: {exc.reason}", Exit.USAGE)


def _body(model: type[Any], **fields: Any) -> Any:
    from pydantic import ValidationError

    from virtuoso_api.cli._runtime import Exit, fail

    try:
        return model(**{k: v for k, v in fields.items() if v is not None})
    except ValidationError as exc:
        first = exc.errors()[0]
        fail(f"--{first['loc'][0]}: {str(first['msg']).removeprefix('Value error, ')}", Exit.USAGE)


@app.command("create")
def create(
    url: Annotated[str, typer.Option("--url", help="The https:// URL that receives events.")],
    events: Annotated[
        str | None, typer.Option("--events", help="Comma-separated types; default: all.")
    ] = None,
    description: Annotated[str | None, typer.Option("--description")] = None,
    user: Annotated[str, typer.Option("--user", help="Whose events it receives.")] = "cli",
    as_json: JsonOption = False,
) -> None:
    """Create a webhook and print its signing secret (shown this once)."""
    from virtuoso_api.webhooks.models import WebhookCreate

    body = _body(WebhookCreate, url=url, events=_types(events), description=description)
    made = _run(lambda services: services.webhooks.create(user, body))
    _show(
        made,
        as_json,
        lambda m: (
            f"Created webhook {m.webhook_id} for {m.url}\n{m.secret}\n"
            "Store the secret now: it cannot be shown again."
        ),
    )


@app.command("list")
def list_webhooks(user: UserOption = None, as_json: JsonOption = False) -> None:
    """Webhooks, newest first."""
    hooks = _run(lambda services: services.webhooks.list_all(user))
    if as_json:
        _show([h.model_dump(mode="json") for h in hooks], True, str)
        return
    from virtuoso_api.cli._runtime import out

    if not hooks:
        out.print("No webhooks yet. Create one with: virtuoso-api webhooks create --url https://...")
    for hook in hooks:
        state = "enabled" if hook.enabled else f"disabled ({hook.disabled_reason or 'by its owner'})"
        kinds = ",".join(hook.events) or "all events"
        out.print(f"{hook.webhook_id}  {hook.owner:<16} {state:<10} {kinds}  {hook.url}")


@app.command("update")
def update(
    webhook_id: str,
    url: Annotated[str | None, typer.Option("--url")] = None,
    events: Annotated[str | None, typer.Option("--events", help="Comma-separated types; '' for all.")] = None,
    description: Annotated[str | None, typer.Option("--description")] = None,
    enabled: Annotated[bool | None, typer.Option("--enable/--disable")] = None,
    as_json: JsonOption = False,
) -> None:
    """Change a webhook (only what is given); --enable brings back one the service disabled."""
    from virtuoso_api.webhooks.models import WebhookUpdate

    kinds = [] if events == "" else _types(events)
    body = _body(WebhookUpdate, url=url, events=kinds, description=description, enabled=enabled)
    changed = _run(lambda services: services.webhooks.update(None, webhook_id, body))
    _show(
        changed,
        as_json,
        lambda h: f"Updated {h.webhook_id}: {'enabled' if h.enabled else 'disabled'}, {h.url}",
    )


@app.command("delete")
def delete(webhook_id: str) -> None:
    """Delete a webhook (its delivery log stays until it expires)."""
    from virtuoso_api.cli._runtime import out

    _run(lambda services: services.webhooks.delete(None, webhook_id))
    out.print(f"Deleted {webhook_id}.")


@app.command("rotate-secret")
def rotate_secret(
    webhook_id: str,
    grace_seconds: Annotated[int, typer.Option("--grace-seconds", min=0, max=7 * 86400)] = 86400,
    as_json: JsonOption = False,
) -> None:
    """A new signing secret (shown this once); the old one also signs for --grace-seconds."""
    from virtuoso_api.webhooks.models import SecretRotation

    rotated = _run(
        lambda s: s.webhooks.rotate_secret(None, webhook_id, SecretRotation(grace_seconds=grace_seconds))
    )
    _show(
        rotated,
        as_json,
        lambda r: f"{r.secret}\nThe old secret also signs until {r.previous_secret_expires_at or 'now'}.",
    )


@app.command("test")
def send_test(webhook_id: str, as_json: JsonOption = False) -> None:
    """Send a webhook.test event now; exit 1 if it was not delivered."""
    result = _run(lambda services: services.webhooks.test(None, webhook_id))
    attempt = result.delivery.attempts[-1]
    _show(
        result,
        as_json,
        lambda r: (
            f"{'delivered' if r.delivered else 'NOT delivered'}: status {attempt.status_code or '-'}, "
            f"{attempt.latency_ms} ms{', ' + attempt.error if attempt.error else ''}"
        ),
    )
    if not result.delivered:
        raise typer.Exit(1)


def _deliveries_text(page: Any) -> str:
    lines = []
    for d in page.deliveries:
        last = d.attempts[-1] if d.attempts else None
        status = f"{last.status_code or '-'} {last.error or ''}".strip() if last else "not attempted"
        due = f" next {d.next_attempt_at:%Y-%m-%d %H:%M:%S}" if d.next_attempt_at else ""
        lines.append(
            f"{d.delivery_id}  {d.state:<9} {d.event_type:<24} {len(d.attempts)} attempts, {status}{due}"
        )
    return "\n".join(lines) or "None."


@app.command("deliveries")
def deliveries(
    webhook_id: str,
    limit: Annotated[int, typer.Option("--limit", min=1, max=200)] = 20,
    as_json: JsonOption = False,
) -> None:
    """A webhook's delivery log, newest first."""
    page = _run(lambda services: services.webhooks.deliveries_of(None, webhook_id, limit=limit, cursor=None))
    _show(page, as_json, _deliveries_text)


@app.command("dead-letters")
def dead_letters(
    user: UserOption = None,
    webhook_id: Annotated[str | None, typer.Option("--webhook")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=200)] = 50,
    as_json: JsonOption = False,
) -> None:
    """Deliveries that used up every attempt, newest first."""
    page = _run(lambda s: s.webhooks.dead_letters(user, webhook_id=webhook_id, limit=limit, cursor=None))
    _show(page, as_json, _deliveries_text)


@app.command("replay")
def replay(
    delivery_ids: Annotated[list[str] | None, typer.Argument(help="Dead letters to replay.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every dead letter (of --webhook, of --user).")] = False,
    webhook_id: Annotated[str | None, typer.Option("--webhook")] = None,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Replay dead letters: each goes back in line with a fresh schedule and is attempted now."""
    from virtuoso_api.webhooks.models import ReplayRequest

    body = _body(ReplayRequest, delivery_ids=delivery_ids or None, webhook_id=webhook_id, all=all_)
    result = _run(lambda services: services.webhooks.replay(user, body))
    _show(result, as_json, lambda r: f"Replayed {r.replayed}: {' '.join(r.delivery_ids) or '-'}")
