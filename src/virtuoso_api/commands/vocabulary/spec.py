"""The spec types: how one command is declared, once, next to the function that builds its result.

A group module makes a :class:`Group` and decorates one builder per command with
:meth:`Group.define`; the decorator records a :class:`CommandSpec` (path, aliases, arguments, flags,
example, and the builder's docstring as description). The parser, the catalogue and the tests all
read those specs, so nothing about a command is written twice.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from virtuoso_api.commands.vocabulary.validate import ArgType, integer
from virtuoso_api.virtuoso.steps import ParsedStep

Kind = Literal["step", "library", "management"]
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Intent:
    """Base of the typed intents that management and library commands parse into."""


Built = ParsedStep | Intent
Builder = Callable[["Values"], Built]
B = TypeVar("B", bound=Builder)


@dataclass(frozen=True, slots=True)
class Arg:
    """A positional argument. A ``variadic`` one takes the rest of the positionals, joined by spaces."""

    name: str
    type: ArgType[Any]
    help: str
    required: bool = True
    variadic: bool = False

    @property
    def metavar(self) -> str:
        return self.name.upper().replace("-", "_")


@dataclass(frozen=True, slots=True)
class Flag:
    """A ``--name`` flag: a switch when ``type`` is None, else it takes one value (``--x 5`` or ``--x=5``)."""

    name: str
    help: str
    type: ArgType[Any] | None = None
    default: str | int | None = None
    short: str | None = None

    @property
    def takes_value(self) -> bool:
        return self.type is not None

    @property
    def spelling(self) -> str:
        return f"--{self.name}"

    @property
    def spellings(self) -> tuple[str, ...]:
        return (self.spelling, f"-{self.short}") if self.short else (self.spelling,)


AT = Flag(
    "at",
    "insert the step at this 1-based position (later steps move down); without it the step is appended",
    integer(1, name="N"),
)


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """One command: where it sits (``command`` + ``path``), what it takes, and what builds its result."""

    command: str
    path: tuple[str, ...]
    kind: Kind
    build: Builder
    summary: str
    args: tuple[Arg, ...]
    flags: tuple[Flag, ...]
    example: tuple[str, ...]
    # Other spellings of the last word of the path (of the command itself when the path is empty).
    aliases: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        names = [arg.name for arg in self.args] + [flag.name for flag in self.flags]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.title}: argument and flag names must be unique: {names}")
        seen_optional = False
        for index, arg in enumerate(self.args):
            if arg.variadic and index != len(self.args) - 1:
                raise ValueError(f"{self.title}: only the last argument may be variadic")
            if arg.required and seen_optional:
                raise ValueError(f"{self.title}: a required argument follows an optional one")
            seen_optional = seen_optional or not arg.required

    @property
    def subcommand(self) -> str:
        return " ".join(self.path)

    @property
    def title(self) -> str:
        return " ".join((self.command, *self.path))

    def usage(self) -> str:
        words = [self.title]
        for arg in self.args:
            metavar = arg.metavar + ("..." if arg.variadic else "")
            words.append(metavar if arg.required else f"[{metavar}]")
        for flag in self.flags:
            words.append(f"[{flag.spelling} {flag.type.name.upper()}]" if flag.type else f"[{flag.spelling}]")
        return " ".join(words)


class Values:
    """The converted arguments and flags of one command, by name, as its builder reads them."""

    def __init__(self, values: dict[str, object], fields: dict[str, str], given: frozenset[str]) -> None:
        self._values = values
        self._fields = fields
        self._given = given

    def get(self, name: str, kind: type[T]) -> T:
        value = self._values[name]
        if not isinstance(value, kind):
            raise TypeError(f"{name} is {type(value).__name__}, not {kind.__name__}")
        return value

    def optional(self, name: str, kind: type[T]) -> T | None:
        return None if self._values.get(name) is None else self.get(name, kind)

    def text(self, name: str) -> str:
        return self.get(name, str)

    def number(self, name: str) -> int:
        return self.get(name, int)

    def switch(self, name: str) -> bool:
        return self.get(name, bool)

    def given(self, name: str) -> bool:
        """Whether the caller passed this argument or flag (rather than it taking its default)."""
        return name in self._given

    def field(self, name: str) -> str:
        """Where this argument was (or would have been) in the request, for error messages."""
        return self._fields[name]


@dataclass
class Group:
    """The commands of one module, collected as they are defined (like a router collects routes).

    ``command`` is the top-level name shared by the group (``step-assert``, ``library``); management
    commands each have their own name and pass ``command=`` to :meth:`define` instead.
    """

    kind: Kind
    command: str | None = None
    summary: str = ""
    specs: list[CommandSpec] = field(default_factory=list)

    def define(
        self,
        *path: str,
        example: Sequence[str],
        command: str | None = None,
        args: Sequence[Arg] = (),
        flags: Sequence[Flag] = (),
        aliases: Sequence[str] = (),
    ) -> Callable[[B], B]:
        name = command or self.command
        if name is None:
            raise ValueError("a command needs a name")
        extra = (AT,) if self.kind == "step" else ()

        def register(build: B) -> B:
            doc = inspect.getdoc(build) or ""
            self.specs.append(
                CommandSpec(
                    command=name,
                    path=tuple(path),
                    kind=self.kind,
                    build=build,
                    summary=doc.split("\n\n", 1)[0].replace("\n", " "),
                    args=tuple(args),
                    flags=(*flags, *extra),
                    example=tuple(example),
                    aliases=tuple(aliases),
                )
            )
            return build

        return register


@dataclass(frozen=True, slots=True)
class StepCommand:
    """A parsed step command: the one step it adds, and where (``at`` None = append).

    ``subcommand`` is the canonical path (``"switch tab next"``, ``"to"`` for ``goto``); ``args`` are
    the tokens as given. The checkpoint is not part of the command: the caller supplies it.
    """

    command: str
    subcommand: str
    args: tuple[str, ...]
    step: ParsedStep
    at: int | None = None
