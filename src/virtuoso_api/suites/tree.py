"""The suite file as a tree of scalars, maps and lists, each knowing its line and its path.

Nothing is converted to Python numbers, dates or booleans by YAML's rules: a scalar keeps the text the
author wrote (``zip: 01234`` stays ``01234``, ``option: Yes`` stays ``Yes``) and says what YAML would
have made of it (``kind``), so each field decides how to read it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from virtuoso_api.suites.problems import StepProblem

ScalarKind = Literal["str", "int", "float", "bool", "null"]

_TRUE = frozenset({"true", "yes", "on", "y"})
_FALSE = frozenset({"false", "no", "off", "n"})


@dataclass(frozen=True, slots=True)
class Scalar:
    line: int
    path: str
    text: str
    kind: ScalarKind

    @property
    def is_null(self) -> bool:
        return self.kind == "null"

    def whole(self, what: str, *, digits: int = 9) -> int:
        """A whole number of at most ``digits`` ASCII digits (``isdigit`` would take "²")."""
        text = self.text.strip()
        if re.fullmatch(rf"[0-9]{{1,{digits}}}", text) is None:
            raise StepProblem(self.line, self.path, f"{what} must be a whole number, got {text!r:.20}")
        return int(text)

    def boolean(self) -> bool:
        """``true``/``false`` (also yes/no/on/off, any case); anything else is a problem."""
        lowered = self.text.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise StepProblem(self.line, self.path, f"must be true or false, got {self.text!r:.60}")


@dataclass(frozen=True, slots=True)
class Entry:
    """One ``key: value`` of a map; the key is a scalar (its line is where the entry starts)."""

    key: Scalar
    value: Node

    @property
    def name(self) -> str:
        return self.key.text


@dataclass(frozen=True, slots=True)
class Mapping:
    line: int
    path: str
    entries: tuple[Entry, ...]

    def get(self, name: str) -> Node | None:
        return next((entry.value for entry in self.entries if entry.name == name), None)

    def names(self) -> list[str]:
        return [entry.name for entry in self.entries]

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries)


@dataclass(frozen=True, slots=True)
class Sequence:
    line: int
    path: str
    items: tuple[Node, ...]

    def __iter__(self) -> Iterator[Node]:
        return iter(self.items)


Node = Scalar | Mapping | Sequence


def describe(node: Node) -> str:
    """What a node is, for messages: ``a list``, ``a map``, ``the text 'x'``."""
    if isinstance(node, Mapping):
        return "a map"
    if isinstance(node, Sequence):
        return "a list"
    if node.is_null:
        return "nothing"
    return f"{node.text!r:.60}"


def scalar(node: Node, what: str) -> Scalar:
    """``node`` as a scalar, or a problem saying that ``what`` must be one."""
    if isinstance(node, Scalar):
        return node
    raise StepProblem(node.line, node.path, f"{what} must be a single value, got {describe(node)}")


def child_path(parent: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else key
