"""``virtuoso-api secrets``: store, show (masked), rotate, list and delete the service's secrets.

Secrets go where the service reads them: Secret Manager with ``USE_SECRET_MANAGER``, else the local
encrypted file in ``DATA_DIR``, under this environment's names (``{ENVIRONMENT}-{type}``). A value is
given as ``--field KEY=VALUE`` options, as JSON (or, for a type with one secret field, plain text) on
standard input with ``--stdin``, or typed at a hidden prompt; a value on the command line stays in the
shell's history and shows in ``ps``, so the secret field is better given the other two ways. Nothing
this command prints shows a secret: ``show`` prints a SHA-256 fingerprint to compare values by.
"""

from __future__ import annotations

import hashlib
import json
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from virtuoso_api.config import Settings
    from virtuoso_api.secrets import Rotation, SecretsService, StoredSecret

# Each command imports the service when it runs: `virtuoso-api --help` must not wait for it.

app = typer.Typer(help="Store, show (masked), rotate, list and delete secrets.", no_args_is_help=True)

TYPES = "virtuoso-api-key, webhook-signing-key or blob-signing-key"
TypeArgument = Annotated[str, typer.Argument(metavar="TYPE", help=f"The secret's type: {TYPES}.")]
NameOption = Annotated[
    str | None, typer.Option("--name", help="Which one, for types kept per thing (webhook-signing-key).")
]
FieldOption = Annotated[
    list[str] | None,
    typer.Option("--field", help="KEY=VALUE of the value (repeatable), e.g. --field org_id=2242."),
]
StdinOption = Annotated[
    bool, typer.Option("--stdin", help="Read the value from standard input (JSON, or the secret as text).")
]
GenerateOption = Annotated[bool, typer.Option("--generate", help="Generate a random key (key types).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]

MASK = "********"


def _fields(fields: list[str] | None, stdin: bool, secret_type: str) -> dict[str, Any]:
    from virtuoso_api.cli._runtime import Exit, fail
    from virtuoso_api.secrets.types import VALUE_MODELS, parse_type

    model = VALUE_MODELS[parse_type(secret_type)]
    given: dict[str, Any] = {}
    if stdin:
        text = sys.stdin.read()
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            given.update(parsed)
        elif len(model.secret_fields) == 1:
            given[model.secret_fields[0]] = text.strip()
        else:
            fail("--stdin: give a JSON object with the value's fields", Exit.USAGE)
    for item in fields or []:
        key, equals, value = item.partition("=")
        if not equals or not key.strip():
            fail(f"--field: expected KEY=VALUE, got {key.strip()!r:.40} without '='", Exit.USAGE)
        if key.strip() in given:
            fail(f"--field: {key.strip()} is given twice", Exit.USAGE)
        given[key.strip()] = value
    return given


def _prompt_missing(given: dict[str, Any], secret_type: str, generate: bool) -> dict[str, Any] | None:
    """The value to store: ``None`` to generate one; missing secret fields typed at a hidden prompt."""
    from virtuoso_api.cli._runtime import Exit, fail
    from virtuoso_api.secrets.types import VALUE_MODELS, parse_type

    model = VALUE_MODELS[parse_type(secret_type)]
    if generate:
        if given:
            fail("--generate makes the whole value; give no fields with it", Exit.USAGE)
        return None
    for name in model.secret_fields:
        if name not in given and sys.stdin.isatty():
            given[name] = typer.prompt(name, hide_input=True)
    return given


def _fingerprint(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()[:12]


def _where(settings: Settings, service: SecretsService) -> str:
    if service.backend == "local":
        return f"the local encrypted store {settings.data_dir / 'secrets.json'}"
    return f"Secret Manager (project {settings.gcp_project_id})"


def _stored_line(action: str, stored: StoredSecret, where: str) -> str:
    return f"{action} {stored.ref} version {stored.version} in {where}."


def _retired_line(rotation: Rotation) -> str:
    disabled = ", ".join(map(str, rotation.retired.disable)) or "none"
    destroyed = ", ".join(map(str, rotation.retired.destroy)) or "none"
    return f"Older versions disabled: {disabled}; destroyed: {destroyed}."


def _rotation_json(rotation: Rotation) -> dict[str, Any]:
    return {
        "secret": rotation.stored.ref.secret_id,
        "type": rotation.stored.ref.type.value,
        "version": rotation.stored.version,
        "disabled_versions": rotation.retired.disable,
        "destroyed_versions": rotation.retired.destroy,
    }


@app.command("set")
def set_secret(
    secret_type: TypeArgument,
    name: NameOption = None,
    field: FieldOption = None,
    stdin: StdinOption = False,
    generate: GenerateOption = False,
    as_json: JsonOption = False,
) -> None:
    """Store a value (the secret is made the first time; later, a new version).

    A new version retires older ones as a rotation does."""
    _store_version(secret_type, name, field, stdin, generate, as_json, rotating=False)


@app.command("show")
def show(
    secret_type: TypeArgument,
    name: NameOption = None,
    version: Annotated[
        int | None, typer.Option("--version", min=1, help="A version (default: newest).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Show a secret, its secret fields masked (with a fingerprint to compare values by)."""
    from virtuoso_api.cli._runtime import out, print_json, run, settings_or_exit
    from virtuoso_api.kit.clock import SystemClock
    from virtuoso_api.services.secrets import build_secrets_service

    settings = settings_or_exit()

    async def work() -> tuple[StoredSecret, str]:
        async with build_secrets_service(settings, clock=SystemClock()) as service:
            return await service.get(service.ref(secret_type, name), version=version), service.backend

    stored, backend = run(work())
    plain = stored.value.plain()
    secret = set(stored.value.secret_fields)
    fields = {key: (MASK if key in secret else value) for key, value in plain.items()}
    fingerprints = {key: _fingerprint(str(plain[key])) for key in secret}
    if as_json:
        print_json(
            {
                "secret": stored.ref.secret_id,
                "type": stored.ref.type.value,
                "backend": backend,
                "version": stored.version,
                "fields": fields,
                "fingerprints": fingerprints,
            }
        )
        return
    rows = [("secret", f"{stored.ref} ({backend})"), ("version", str(stored.version))]
    for key, value in fields.items():
        shown = "" if value is None else str(value)
        rows.append((key, f"{shown} ({fingerprints[key]})" if key in secret else shown))
    width = max(len(key) for key, _ in rows)
    for key, value in rows:
        out.print(f"{key:<{width}}  {value}")


@app.command("rotate")
def rotate(
    secret_type: TypeArgument,
    name: NameOption = None,
    field: FieldOption = None,
    stdin: StdinOption = False,
    generate: GenerateOption = False,
    as_json: JsonOption = False,
) -> None:
    """Add a new version of a secret, then retire older ones.

    Older versions are disabled once SECRET_ROTATION_GRACE_SECONDS have passed since they were
    superseded, and destroyed past the SECRET_VERSIONS_KEPT newest."""
    _store_version(secret_type, name, field, stdin, generate, as_json, rotating=True)


def _store_version(
    secret_type: str,
    name: str | None,
    field: list[str] | None,
    stdin: bool,
    generate: bool,
    as_json: bool,
    *,
    rotating: bool,
) -> None:
    """``set`` (``put``: made if missing) and ``rotate`` (the secret must exist), then what was done."""
    from virtuoso_api.cli._runtime import out, print_json, run, settings_or_exit
    from virtuoso_api.kit.clock import SystemClock
    from virtuoso_api.services.secrets import build_secrets_service

    settings = settings_or_exit()
    value = _prompt_missing(_fields(field, stdin, secret_type), secret_type, generate)

    async def work() -> tuple[Rotation, str]:
        async with build_secrets_service(settings, clock=SystemClock(), announce=True) as service:
            ref = service.ref(secret_type, name)
            stored = await (service.rotate(ref, value) if rotating else service.put(ref, value))
            return stored, _where(settings, service)

    rotation, where = run(work())
    if as_json:
        print_json(_rotation_json(rotation))
        return
    out.print(_stored_line("Rotated" if rotating else "Stored", rotation.stored, where))
    if rotating or rotation.retired:
        out.print(_retired_line(rotation))


@app.command("versions")
def versions(secret_type: TypeArgument, name: NameOption = None, as_json: JsonOption = False) -> None:
    """List a secret's versions, newest first, with their states."""
    from rich.table import Table

    from virtuoso_api.cli._runtime import out, print_json, run, settings_or_exit
    from virtuoso_api.infra.secrets import VersionInfo
    from virtuoso_api.kit.clock import SystemClock
    from virtuoso_api.kit.timestamps import format_timestamp
    from virtuoso_api.services.secrets import build_secrets_service

    settings = settings_or_exit()

    async def work() -> tuple[str, list[VersionInfo]]:
        async with build_secrets_service(settings, clock=SystemClock()) as service:
            ref = service.ref(secret_type, name)
            return ref.secret_id, await service.versions(ref)

    secret_id, listed = run(work())
    if as_json:
        print_json(
            [
                {"version": v.number, "state": v.state.value, "created_at": format_timestamp(v.created_at)}
                for v in listed
            ]
        )
        return
    if not listed:
        out.print(f"{secret_id} has no versions.")
        return
    table = Table(box=None)
    for column in ("VERSION", "STATE", "CREATED"):
        table.add_column(column, no_wrap=True)
    for v in listed:
        table.add_row(str(v.number), v.state.value, f"{v.created_at:%Y-%m-%d %H:%M:%S}")
    out.print(table)


@app.command("delete")
def delete(
    secret_type: TypeArgument,
    name: NameOption = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Delete a secret and every version of it (this cannot be undone)."""
    from virtuoso_api.cli._runtime import Exit, fail, out, print_json, run, settings_or_exit
    from virtuoso_api.kit.clock import SystemClock
    from virtuoso_api.secrets.types import SecretRef
    from virtuoso_api.services.secrets import build_secrets_service

    settings = settings_or_exit()
    secret_id = SecretRef.of(secret_type, name, environment=settings.environment.value).secret_id
    if not yes:
        if not sys.stdin.isatty():
            fail(f"deleting {secret_id} cannot be undone: add --yes to confirm", Exit.USAGE)
        typer.confirm(f"Delete {secret_id} and all its versions?", abort=True)

    async def work() -> bool:
        async with build_secrets_service(settings, clock=SystemClock()) as service:
            return await service.delete(service.ref(secret_type, name))

    if not run(work()):
        fail(f"secret {secret_id} does not exist", Exit.NOT_FOUND)
    if as_json:
        print_json({"secret": secret_id, "deleted": True})
        return
    out.print(f"Deleted {secret_id} and all its versions.")
