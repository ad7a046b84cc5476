"""From ``(command, args)`` to a step or an intent: tokenise, find the subcommand, bind, build.

Tokenising rules (the same for HTTP, the CLI and the task queue):

* a token starting with ``-`` is a flag (``--timeout``, ``-d``), except ``-`` itself and negative
  numbers such as ``-5`` or ``-100,0``, which are positionals;
* ``--name=value`` always carries its value; ``--name value`` takes the next token when the flag takes
  a value and that token does not look like a flag (so ``--x -100`` works, ``--variable --at`` does not);
* ``--`` ends the flags: every later token is positional, even ``--x``;
* flags may come anywhere, before or after the subcommand and the positionals.

Positionals are never guessed: a number is only ever the argument in its place, and the step
position is ``--at N`` alone (never a trailing number).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from virtuoso_api.commands.vocabulary.registry import Entry, lookup
from virtuoso_api.commands.vocabulary.spec import CommandSpec, Flag, Intent, StepCommand, Values
from virtuoso_api.errors import InvalidInput
from virtuoso_api.virtuoso.steps import ParsedStep

ParsedCommand = StepCommand | Intent

_NEGATIVE_NUMBER = re.compile(r"-\d")


@dataclass(frozen=True, slots=True)
class Positional:
    """A positional token and its index in ``args`` (for error fields)."""

    index: int
    text: str


@dataclass(frozen=True, slots=True)
class FlagUse:
    """A flag as written (``--x`` or ``-d``) with its raw value, None when none was attached."""

    index: int
    spelling: str
    value: str | None


def looks_like_flag(token: str) -> bool:
    return token.startswith("-") and token != "-" and _NEGATIVE_NUMBER.match(token) is None


def tokenise(args: Sequence[str], flags: Mapping[str, Flag]) -> tuple[list[Positional], list[FlagUse]]:
    """Split ``args`` into positionals and flag uses; ``flags`` says which spellings take a value."""
    positionals: list[Positional] = []
    uses: list[FlagUse] = []
    index, flags_ended = 0, False
    while index < len(args):
        token = args[index]
        if flags_ended or not looks_like_flag(token):
            positionals.append(Positional(index, token))
        elif token == "--":
            flags_ended = True
        elif "=" in token:
            spelling, _, value = token.partition("=")
            uses.append(FlagUse(index, spelling, value))
        else:
            flag = flags.get(token)
            following = args[index + 1] if index + 1 < len(args) else None
            if (
                flag is not None
                and flag.takes_value
                and following is not None
                and not looks_like_flag(following)
            ):
                uses.append(FlagUse(index, token, following))
                index += 1
            else:
                uses.append(FlagUse(index, token, None))
        index += 1
    return positionals, uses


def _flag_list(flags: Sequence[Flag]) -> str:
    return ", ".join(flag.spelling for flag in flags) or "none"


def _resolve(entry: Entry, positionals: list[Positional]) -> tuple[CommandSpec, list[Positional]]:
    node, trail, used = entry.root, [entry.command], 0
    while node.spec is None:
        if used == len(positionals):
            where = positionals[used - 1].index + 1 if used else 0
            raise InvalidInput(
                f"args[{where}]", f"missing subcommand of {' '.join(trail)}; valid: {node.choices()}"
            )
        token = positionals[used]
        found = node.find(token.text)
        if found is None:
            raise InvalidInput(
                f"args[{token.index}]",
                f"unknown subcommand {token.text!r:.40} of {' '.join(trail)}; valid: {node.choices()}",
            )
        word, node = found
        trail.append(word)
        used += 1
    return node.spec, positionals[used:]


def _match_flags(spec: CommandSpec, uses: list[FlagUse]) -> dict[str, str | None]:
    """The raw value of each flag given (None for a switch), by flag name."""
    by_spelling = {spelling: flag for flag in spec.flags for spelling in flag.spellings}
    matched: dict[str, str | None] = {}
    for use in uses:
        flag = by_spelling.get(use.spelling)
        if flag is None:
            raise InvalidInput(
                f"args.{use.spelling}",
                f"unknown flag for {spec.title}; valid flags: {_flag_list(spec.flags)}",
            )
        field = f"args.{flag.spelling}"
        if flag.name in matched:
            raise InvalidInput(field, "is given more than once")
        if flag.type is None and use.value is not None:
            raise InvalidInput(field, "is a switch and takes no value")
        if flag.type is not None and use.value is None:
            raise InvalidInput(
                field,
                f"needs a value ({flag.type.accepts}); write {flag.spelling}=VALUE if it starts with '-'",
            )
        matched[flag.name] = use.value
    return matched


def _split_positionals(
    spec: CommandSpec, positionals: list[Positional], count: int
) -> list[list[Positional]]:
    """One list of tokens per argument (a variadic one takes the rest); checks missing and extra."""
    queue, split = list(positionals), []
    for arg in spec.args:
        taken = queue if arg.variadic else queue[:1]
        queue = [] if arg.variadic else queue[1:]
        if not taken and arg.required:
            raise InvalidInput(f"args[{count}]", f"missing {arg.metavar}; usage: {spec.usage()}")
        split.append(taken)
    if queue:
        extra = queue[0]
        raise InvalidInput(
            f"args[{extra.index}]", f"unexpected extra argument {extra.text!r:.40}; usage: {spec.usage()}"
        )
    return split


def _bind(spec: CommandSpec, positionals: list[Positional], uses: list[FlagUse], count: int) -> Values:
    matched = _match_flags(spec, uses)
    split = _split_positionals(spec, positionals, count)
    values: dict[str, object] = {}
    fields: dict[str, str] = {}
    for flag in spec.flags:
        field = fields[flag.name] = f"args.{flag.spelling}"
        if flag.name not in matched:
            values[flag.name] = False if flag.type is None else flag.default
            continue
        raw = matched[flag.name]
        values[flag.name] = True if flag.type is None else flag.type.convert(raw or "", field)
    for arg, taken in zip(spec.args, split, strict=True):
        field = fields[arg.name] = f"args[{taken[0].index if taken else count}]"
        # A variadic argument is the rest of the positionals joined by spaces (e.g. a comment).
        values[arg.name] = arg.type.convert(" ".join(t.text for t in taken), field) if taken else None
    given = frozenset(matched) | frozenset(
        arg.name for arg, taken in zip(spec.args, split, strict=True) if taken
    )
    return Values(values, fields, given)


def _strings(args: object) -> list[str]:
    # Typed callers cannot get this wrong, but queued and JSON-borne commands can.
    if isinstance(args, str | bytes) or not isinstance(args, Sequence):
        raise InvalidInput("args", "must be a list of strings")
    checked: list[str] = []
    for index, arg in enumerate(args):
        if not isinstance(arg, str):
            raise InvalidInput(f"args[{index}]", f"must be a string, got {type(arg).__name__}")
        checked.append(arg)
    return checked


def _command(command: object) -> str:
    if not isinstance(command, str):
        raise InvalidInput("command", "must be a string")
    return command


def parse_command(command: str, args: Sequence[str]) -> ParsedCommand:
    """Parse one command: a :class:`StepCommand` for ``step-*`` commands, else a typed :class:`Intent`.

    Raises :class:`InvalidInput` naming the offending place (``command``, ``args[2]``,
    ``args.--timeout``) for anything unknown, missing, extra or invalid.
    """
    tokens = _strings(args)
    entry = lookup(_command(command))
    positionals, uses = tokenise(tokens, entry.flags)
    try:
        spec, rest = _resolve(entry, positionals)
    except InvalidInput:
        # An unknown flag does not consume its value, which then looks like a subcommand: name the flag.
        unknown = next((use for use in uses if use.spelling not in entry.flags), None)
        if unknown is None:
            raise
        valid = _flag_list(list(dict.fromkeys(entry.flags.values())))
        raise InvalidInput(
            f"args.{unknown.spelling}", f"unknown flag for {entry.command}; valid flags: {valid}"
        ) from None
    values = _bind(spec, rest, uses, len(tokens))
    built = spec.build(values)
    if isinstance(built, ParsedStep):
        return StepCommand(spec.command, spec.subcommand, tuple(tokens), built, values.optional("at", int))
    return built
