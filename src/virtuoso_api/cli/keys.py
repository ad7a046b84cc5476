"""``virtuoso-api keys``: create, list and revoke API keys directly in the configured store."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from virtuoso_api.api_keys.models import ApiKeyCreated, ApiKeyView, Scope

# Each command imports the store and the models when it runs: loading them here would make every
# `virtuoso-api` invocation, --help included, wait for the whole service to import.

app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def _scopes(text: str) -> list[Scope]:
    from virtuoso_api.api_keys.models import Scope
    from virtuoso_api.cli._runtime import Exit, fail

    names = [part.strip() for part in text.split(",") if part.strip()]
    valid = ", ".join(s.value for s in Scope)
    for name in names:
        if name not in {s.value for s in Scope}:
            fail(f"--scopes: unknown scope {name!r}; choose from {valid}", Exit.USAGE)
    if not names:
        fail(f"--scopes: give at least one of {valid}", Exit.USAGE)
    return [Scope(name) for name in names]


@app.command("create")
def create(
    name: Annotated[str, typer.Option("--name", help="What the key is for, e.g. 'ci-pipeline'.")],
    scopes: Annotated[
        str, typer.Option("--scopes", help="Comma-separated: read, write, admin.")
    ] = "read,write",
    user: Annotated[
        str | None, typer.Option("--user", help="Whose key (sessions belong to it). Default: the name.")
    ] = None,
    expires_in_days: Annotated[int | None, typer.Option("--expires-in-days", min=1, max=3650)] = None,
    as_json: JsonOption = False,
) -> None:
    """Create a key and print it. It is shown this once: only its hash is stored."""
    from pydantic import ValidationError
    from rich.markup import escape

    from virtuoso_api.api_keys.models import ApiKeyCreate, ApiKeyCreated, ApiKeyView
    from virtuoso_api.cli._runtime import Exit, fail, out, print_json, run, settings_or_exit
    from virtuoso_api.services import Services

    try:
        request = ApiKeyCreate(
            name=name, scopes=_scopes(scopes), user_id=user, expires_in_days=expires_in_days
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        option = str(first["loc"][0]).removesuffix("_id").replace("_", "-")
        fail(f"--{option}: {str(first['msg']).removeprefix('Value error, ')}", Exit.USAGE)

    async def work() -> ApiKeyCreated:
        async with Services.running(settings_or_exit()) as services:
            key, record = await services.api_keys.create(request)
            return ApiKeyCreated(**ApiKeyView.of(record).model_dump(), key=key)

    created = run(work())
    if as_json:
        print_json(created.model_dump(mode="json"))
        return
    out.print(
        f"Created API key [bold]{created.key_id}[/bold] ({escape(created.name)}, user {created.user_id}, "
        f"scopes {', '.join(created.scopes)})",
        markup=True,
    )
    out.print(created.key)
    out.print("Store it now: it cannot be shown again.", style="yellow")


@app.command("list")
def list_keys(as_json: JsonOption = False) -> None:
    """List every key, newest first (revoked and expired ones included)."""
    from rich.table import Table

    from virtuoso_api.api_keys.models import ApiKeyView
    from virtuoso_api.cli._runtime import out, print_json, run, settings_or_exit
    from virtuoso_api.services import Services

    async def work() -> list[ApiKeyView]:
        async with Services.running(settings_or_exit()) as services:
            return [ApiKeyView.of(key) for key in await services.api_keys.list()]

    keys = run(work())
    now = datetime.now(UTC)
    if as_json:
        print_json([key.model_dump(mode="json") for key in keys])
        return
    if not keys:
        out.print("No API keys yet. Create one with: virtuoso-api keys create --name NAME --scopes admin")
        return
    table = Table(box=None)
    for column in ("KEY ID", "PREFIX"):  # ids are copied from here, so they must not wrap
        table.add_column(column, no_wrap=True)
    for column in ("NAME", "USER", "SCOPES", "CREATED", "STATE"):
        table.add_column(column)
    for key in keys:
        table.add_row(
            key.key_id,
            key.prefix,
            key.name,
            key.user_id,
            ",".join(key.scopes),
            f"{key.created_at:%Y-%m-%d}",
            _state(key, now),
        )
    out.print(table)


def _state(key: ApiKeyView, now: datetime) -> str:
    if key.revoked_at is not None:
        return "revoked"
    if key.valid_until is not None and key.valid_until <= now:
        return "expired"
    return "active"


@app.command("revoke")
def revoke(
    key_id: Annotated[str, typer.Argument(help="The key id shown by 'keys list'.")],
    as_json: JsonOption = False,
) -> None:
    """Revoke a key. A running server stops accepting it within API_KEY_CACHE_SECONDS."""
    from virtuoso_api.api_keys.models import ApiKeyView
    from virtuoso_api.cli._runtime import out, print_json, run, settings_or_exit
    from virtuoso_api.services import Services

    async def work() -> ApiKeyView:
        async with Services.running(settings_or_exit()) as services:
            return ApiKeyView.of(await services.api_keys.revoke(key_id))

    revoked = run(work())
    if as_json:
        print_json(revoked.model_dump(mode="json"))
    else:
        out.print(f"Revoked {revoked.key_id} ({revoked.name}).")
