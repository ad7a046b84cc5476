"""Every command spec, arranged as a tree per top-level command for the parser to walk.

Built once at import from the group modules; an inconsistent definition (a duplicate path, an alias
that clashes, a flag that is a switch in one command and takes a value in a sibling) fails the import,
so it cannot reach a caller.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from virtuoso_api.commands.vocabulary import (
    assertions,
    data,
    dialog,
    file,
    interact,
    library,
    management,
    misc,
    mouse_select,
    navigate,
    wait,
    window,
)
from virtuoso_api.commands.vocabulary.spec import CommandSpec, Flag, Group
from virtuoso_api.errors import InvalidInput

GROUPS: tuple[Group, ...] = (
    assertions.ASSERT,
    interact.INTERACT,
    mouse_select.MOUSE_SELECT,
    navigate.NAVIGATE,
    window.WINDOW,
    data.DATA,
    dialog.DIALOG,
    wait.WAIT,
    file.FILE,
    misc.MISC,
    library.LIBRARY,
    management.MANAGEMENT,
)


@dataclass
class Node:
    """A point in a command's subcommand tree: a leaf holds a spec, an inner node holds children."""

    spec: CommandSpec | None = None
    children: dict[str, Node] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)

    def find(self, word: str) -> tuple[str, Node] | None:
        canonical = self.aliases.get(word, word)
        child = self.children.get(canonical)
        return None if child is None else (canonical, child)

    def check(self, where: str) -> None:
        clashes = set(self.aliases) & set(self.children)
        if clashes:
            raise ValueError(f"{where}: {sorted(clashes)} are both aliases and subcommands")
        for word, child in self.children.items():
            child.check(f"{where} {word}")

    def choices(self) -> str:
        listed = []
        for name in self.children:
            aliases = [alias for alias, canonical in self.aliases.items() if canonical == name]
            listed.append(f"{name} ({', '.join(aliases)})" if aliases else name)
        return ", ".join(listed)


@dataclass
class Entry:
    """One top-level command: its tree, a summary, and every flag spelling any of its leaves knows."""

    command: str
    summary: str
    root: Node = field(default_factory=Node)
    flags: dict[str, Flag] = field(default_factory=dict)

    def add(self, spec: CommandSpec) -> None:
        node = self.root
        for depth, word in enumerate(spec.path):
            node = node.children.setdefault(word, Node())
            if node.spec is not None:
                raise ValueError(f"{spec.title}: {' '.join(spec.path[: depth + 1])} is already a command")
            if depth == len(spec.path) - 1:
                parent = self.root if depth == 0 else self._node(spec.path[:depth])
                for alias in spec.aliases:
                    if parent.aliases.setdefault(alias, word) != word:
                        raise ValueError(f"{spec.title}: alias {alias!r} is already taken")
        if node.spec is not None or node.children:
            raise ValueError(f"{spec.title} is defined twice")
        node.spec = spec
        for flag in spec.flags:
            for spelling in flag.spellings:
                known = self.flags.setdefault(spelling, flag)
                # The tokeniser decides from the spelling alone whether the next token is a value.
                if known.takes_value != flag.takes_value:
                    raise ValueError(f"{spec.title}: {spelling} is a switch in one command and not another")

    def _node(self, path: tuple[str, ...]) -> Node:
        node = self.root
        for word in path:
            node = node.children[word]
        return node


def _build() -> tuple[dict[str, Entry], dict[str, str]]:
    entries: dict[str, Entry] = {}
    aliases: dict[str, str] = {}
    for group in GROUPS:
        for spec in group.specs:
            if spec.path:
                entry = entries.setdefault(spec.command, Entry(spec.command, group.summary))
                entry.summary = entry.summary or group.summary
            else:
                if spec.command in entries:
                    raise ValueError(f"{spec.command} is defined twice")
                entry = entries[spec.command] = Entry(spec.command, spec.summary)
                aliases.update(dict.fromkeys(spec.aliases, spec.command))
            entry.add(spec)
    for entry in entries.values():
        entry.root.check(entry.command)
    return entries, aliases


_ENTRIES, _COMMAND_ALIASES = _build()


def command_names(*, with_aliases: bool = False) -> list[str]:
    """The top-level command names (``step-assert``, ..., ``library``, ``create-project``, ...), and
    with ``with_aliases`` the other spellings the parser takes for them."""
    return [*_ENTRIES, *(_COMMAND_ALIASES if with_aliases else ())]


def specs() -> list[CommandSpec]:
    """Every command spec, in definition order."""
    return [spec for group in GROUPS for spec in group.specs]


def lookup(command: str) -> Entry:
    """The entry for a top-level command name (or one of its aliases)."""
    entry = _ENTRIES.get(_COMMAND_ALIASES.get(command, command))
    if entry is not None:
        return entry
    close = difflib.get_close_matches(command, [*_ENTRIES, *_COMMAND_ALIASES], n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise InvalidInput("command", f"unknown command {command!r:.60}; {hint}valid: {', '.join(_ENTRIES)}")
