"""The command catalogue, generated from the specs: what each command takes, with one example."""

from __future__ import annotations

from typing import TypedDict

from virtuoso_api.commands.vocabulary.registry import specs
from virtuoso_api.commands.vocabulary.spec import Arg, CommandSpec, Flag, Kind


class ArgumentEntry(TypedDict):
    """A positional argument of a catalogue entry."""

    name: str
    type: str
    accepts: str
    description: str
    required: bool
    variadic: bool


class FlagEntry(TypedDict):
    """A flag of a catalogue entry (``type`` is ``switch`` for flags without a value)."""

    name: str
    type: str
    accepts: str
    description: str
    default: str | int | bool | None


class Example(TypedDict):
    """A runnable example, in the same shape callers send."""

    command: str
    args: list[str]


class CatalogueEntry(TypedDict):
    """One command of the catalogue; ``subcommand`` is empty for management commands."""

    command: str
    subcommand: str
    aliases: list[str]
    kind: Kind
    description: str
    usage: str
    arguments: list[ArgumentEntry]
    flags: list[FlagEntry]
    example: Example


def _argument(arg: Arg) -> ArgumentEntry:
    return ArgumentEntry(
        name=arg.name,
        type=arg.type.name,
        accepts=arg.type.accepts,
        description=arg.help,
        required=arg.required,
        variadic=arg.variadic,
    )


def _flag(flag: Flag) -> FlagEntry:
    if flag.type is None:
        return FlagEntry(
            name=flag.spelling, type="switch", accepts="no value", description=flag.help, default=False
        )
    return FlagEntry(
        name=flag.spelling,
        type=flag.type.name,
        accepts=flag.type.accepts,
        description=flag.help,
        default=flag.default,
    )


def entry(spec: CommandSpec) -> CatalogueEntry:
    return CatalogueEntry(
        command=spec.command,
        subcommand=spec.subcommand,
        aliases=list(spec.aliases),
        kind=spec.kind,
        description=spec.summary,
        usage=spec.usage(),
        arguments=[_argument(arg) for arg in spec.args],
        flags=[_flag(flag) for flag in spec.flags],
        example=Example(command=spec.command, args=list(spec.example)),
    )


def catalogue() -> list[CatalogueEntry]:
    """Every command (59 steps, library, management), JSON-serialisable, in definition order."""
    return [entry(spec) for spec in specs()]
