"""What one step handler reads (:class:`Fields`) and what it builds (:class:`Args`).

A step is a main value (``click: Login``) and/or named fields (``write: {selector, text}``, the
siblings of an extended step's ``action``). A handler takes the fields it knows by their spellings;
whatever it did not take is an error naming the key, so nothing an author wrote is silently lost.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import urljoin

from virtuoso_api.commands.vocabulary.parse import looks_like_flag
from virtuoso_api.suites.problems import StepProblem
from virtuoso_api.suites.tree import Entry, Mapping, Node, Scalar, describe, scalar
from virtuoso_api.suites.variables import Variables

#: The spellings of "the element", in the order one is chosen when several are given.
HINT_KEYS: Final = ("selector", "element", "target", "hint", "text", "label", "placeholder", "css", "xpath")
#: Step titles, kept with the step (never sent: Virtuoso's step has no such field).
DESCRIPTION_KEYS: Final = ("description", "desc", "title", "name")
#: Keys of an extended step's ``target: {...}`` that say how to find the element but no vocabulary can.
_UNEXPRESSIBLE_TARGET: Final = {
    "near": "an element found next to another (near:)",
    "fallback": "a second element to try (fallback:)",
    "index": "the n-th of several matching elements (index:)",
    "within": "an element inside another (within:)",
}


@dataclass(frozen=True, slots=True)
class Token:
    text: str
    line: int
    path: str


@dataclass
class Args:
    """The ``(command, args)`` of one step, each token remembering the line and field it came from."""

    command: str
    words: list[Token]
    positionals: list[Token] = field(default_factory=list)
    flags: list[Token] = field(default_factory=list)

    def add(self, text: str, where: Scalar) -> Args:
        self.positionals.append(Token(text, where.line, where.path))
        return self

    def flag(self, name: str, where: Scalar, value: str | None = None) -> Args:
        self.flags.append(Token(f"--{name}", where.line, where.path))
        if value is not None:
            self.flags.append(Token(value, where.line, where.path))
        return self

    def tokens(self) -> list[Token]:
        # A value such as "-5" or "--x" would read as a flag: "--" ends the flags before the values.
        if any(looks_like_flag(token.text) for token in self.positionals):
            return [*self.words, *self.flags, Token("--", 0, ""), *self.positionals]
        return [*self.words, *self.positionals, *self.flags]


class Context:
    """What every step of one suite shares: its variables, its base URL and where warnings go."""

    def __init__(
        self, variables: Variables, warn: Callable[[int, str, str], None], base_url: str | None
    ) -> None:
        self.variables = variables
        self.warn = warn
        self.base_url = base_url

    def with_variables(self, variables: Variables) -> Context:
        return Context(variables, self.warn, self.base_url)

    def text(self, node: Scalar) -> str:
        return self.variables.text(node)

    def url(self, node: Scalar, *, relative: bool = True) -> str:
        """A URL with its variables filled in; with ``relative``, ``/checkout`` joins the file's ``base``."""
        text = self.variables.text(node, url=True).strip()
        if relative and self.base_url and "://" not in text:
            return urljoin(self.base_url, text)
        return text


class Fields:
    """The parts of one step, for its handler to take."""

    def __init__(
        self, verb: str, line: int, path: str, main: Node | None, named: list[Entry], context: Context
    ) -> None:
        self.verb = verb
        self.line = line
        self.path = path
        self.context = context
        self._main = main
        self._named = {entry.name: entry for entry in named}
        self._taken: set[str] = set()
        self._asked: list[str] = []
        self._main_taken = main is None

    # -- building ----------------------------------------------------------------------------------

    def args(self, command: str, *words: str) -> Args:
        return Args(command, [Token(word, self.line, self.path) for word in words])

    def problem(self, message: str, where: Node | None = None) -> StepProblem:
        if where is None:
            return StepProblem(self.line, self.path, f"{self.verb}: {message}")
        return StepProblem(where.line, where.path, message)

    def warn(self, message: str, where: Node | None = None) -> None:
        node_line, node_path = (where.line, where.path) if where is not None else (self.line, self.path)
        self.context.warn(node_line, node_path, f"{self.verb}: {message}")

    # -- reading -----------------------------------------------------------------------------------

    def main(self) -> Scalar | None:
        """The step's single value (``click: Login``); None when it has none or it is null."""
        self._main_taken = True
        if self._main is None:
            return None
        value = scalar(self._main, f"{self.verb}'s value")
        return None if value.is_null else value

    def has_main(self) -> bool:
        return self._main is not None and not (isinstance(self._main, Scalar) and self._main.is_null)

    def given(self, *names: str) -> bool:
        return any(name in self._named for name in names)

    def node(self, *names: str) -> Node | None:
        """The one field among ``names`` the step gives (None if none); two of them is an error."""
        self._asked.extend(name for name in names if name not in self._asked)
        present = [name for name in names if name in self._named]
        if len(present) > 1:
            second = self._named[present[1]].key
            raise StepProblem(second.line, second.path, f"give {present[0]} or {present[1]}, not both")
        if not present:
            return None
        self._taken.add(present[0])
        return self._named[present[0]].value

    def field(self, *names: str) -> Scalar | None:
        found = self.node(*names)
        if found is None:
            return None
        value = scalar(found, found.path or names[0])
        return None if value.is_null else value

    def text(self, *names: str) -> str | None:
        found = self.field(*names)
        return None if found is None else self.context.text(found)

    def flag(self, *names: str) -> bool:
        found = self.field(*names)
        return False if found is None else found.boolean()

    def required(self, what: str, *names: str) -> Scalar:
        found = self.field(*names)
        if found is None:
            raise self.problem(f"needs {what} ({' or '.join(names)})")
        return found

    def choice(self, choices: dict[str, str], what: str = "action") -> str:
        """The step's value (or its ``action``) as one of ``choices``, by any of their spellings."""
        node = self.main() or self.required(f"an {what} ({', '.join(sorted(set(choices.values())))})", what)
        chosen = choices.get(node.text.strip().lower().replace("_", "-"))
        if chosen is None:
            valid = ", ".join(sorted(set(choices.values())))
            raise self.problem(f"{what} is one of {valid}, got {node.text!r:.40}", node)
        return chosen

    def pair(self, known: tuple[str, ...]) -> tuple[Scalar, Scalar] | None:
        """The compact form ``t: {Email: a@b.c}``: one entry whose key is no field name (the element)."""
        if len(self._named) != 1 or self._main is not None:
            return None
        entry = next(iter(self._named.values()))
        if entry.name in known or entry.name in DESCRIPTION_KEYS:
            return None
        self._taken.add(entry.name)
        return entry.key, scalar(entry.value, entry.key.path)

    def hint(self, keys: tuple[str, ...] = HINT_KEYS, *, main: bool = True) -> Scalar | None:
        """The element: the main value, else the first of ``keys`` given (``target`` may be a map).

        Virtuoso finds an element from one hint; when a step gives several (``text`` and ``css``, as
        Selenium conversions do), the first in ``keys`` order is used and the rest are named in a
        warning."""
        if main and self.has_main():
            return self.main()
        self._asked.extend(key for key in keys if key not in self._asked)
        present = [key for key in keys if key in self._named]
        if not present:
            return None
        self._taken.update(present)
        chosen = self._named[present[0]].value
        hint = self._target_map(chosen) if isinstance(chosen, Mapping) else scalar(chosen, chosen.path)
        if len(present) > 1:
            self.warn(
                f"several element hints ({', '.join(present)}): using {present[0]} {hint.text!r:.60}; "
                "Virtuoso finds an element from one hint, the others are ignored"
            )
        return None if hint.is_null else hint

    def _target_map(self, target: Mapping) -> Scalar:
        for entry in target:
            if entry.name in _UNEXPRESSIBLE_TARGET:
                raise StepProblem(
                    entry.key.line,
                    entry.key.path,
                    f"{_UNEXPRESSIBLE_TARGET[entry.name]} cannot be expressed: a step's element is one "
                    "hint (visible text or a selector)",
                )
            if entry.name not in HINT_KEYS and entry.name not in DESCRIPTION_KEYS:
                raise StepProblem(
                    entry.key.line,
                    entry.key.path,
                    f"unknown key {entry.name!r:.40} in target; it takes {', '.join(HINT_KEYS)}",
                )
        nested = Fields(self.verb, target.line, target.path, None, list(target.entries), self.context)
        found = nested.hint(main=False)
        if found is None:
            raise StepProblem(target.line, target.path, f"target needs one of {', '.join(HINT_KEYS)}")
        return found

    def description(self) -> str | None:
        """The step's title from the keys no handler took (``name`` is a title only then)."""
        for key in DESCRIPTION_KEYS:
            if key in self._named and key not in self._taken:
                self._taken.add(key)
                value = self._named[key].value
                return scalar(value, value.path).text
        return None

    def finish(self) -> None:
        """Every key of the step was understood; the first that was not is an error."""
        if not self._main_taken:
            assert self._main is not None
            raise StepProblem(
                self._main.line,
                self._main.path,
                f"{self.verb} takes named fields here, not {describe(self._main)}",
            )
        for name, entry in self._named.items():
            if name not in self._taken:
                known = ", ".join(self._asked) or "no other keys"
                raise StepProblem(
                    entry.key.line,
                    entry.key.path,
                    f"{self.verb} does not take {name!r:.40} (it takes: {known})",
                )
