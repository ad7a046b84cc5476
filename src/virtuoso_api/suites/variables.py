"""Variables: which references are filled in before a step is sent, and which Virtuoso fills in.

* ``{{name}}`` is this service's: always filled in from the file's ``variables``/``data`` and
  ``--var NAME=VALUE`` (which wins); an undefined one is an error, never sent as written.
* ``$name`` is Virtuoso's own variable syntax. When the file or ``--var`` defines ``name`` it is
  filled in here (what compact files with ``data`` mean); otherwise it is sent as written for Virtuoso
  to fill in at run time (a variable stored by an earlier step, an environment or test-data variable),
  with a warning unless an earlier step of the file stores it.
* ``[name]`` inside a URL (``https://[instance].crm.dynamics.com``, as the D365 templates write a host
  still to be chosen) is filled in like ``{{name}}``; undefined, it is an error saying to pass ``--var``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

from virtuoso_api.suites.problems import StepProblem
from virtuoso_api.suites.tree import Scalar

Value = str | list[str]
Warn = Callable[[int, str, str], None]

NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_REFERENCE = re.compile(
    r"\{\{\s*(?P<template>[A-Za-z_][A-Za-z0-9_]*)\s*\}\}|(?<![\w$])\$(?P<dollar>[A-Za-z_][A-Za-z0-9_]*)"
)
_URL_REFERENCE = re.compile(_REFERENCE.pattern + r"|\[(?P<placeholder>[A-Za-z_][A-Za-z0-9_]*)\]")
_WHOLE_DOLLAR = re.compile(r"\s*\$([A-Za-z_][A-Za-z0-9_]*)\s*")


class Variables:
    """The values of one suite (or of one loop iteration inside it) and what is stored at run time."""

    def __init__(
        self,
        values: dict[str, Value],
        warn: Warn,
        *,
        stored: set[str] | None = None,
        warned: set[str] | None = None,
    ) -> None:
        self._values = values
        self._warn = warn
        self._stored = stored if stored is not None else set()
        self._warned = warned if warned is not None else set()

    def with_value(self, name: str, value: str) -> Variables:
        """These variables and ``name`` bound to ``value`` (a loop's item)."""
        return Variables({**self._values, name: value}, self._warn, stored=self._stored, warned=self._warned)

    def get(self, name: str) -> Value | None:
        return self._values.get(name)

    def defines(self, name: str) -> bool:
        return name in self._values

    def store(self, name: str) -> None:
        """A step stores ``name`` at run time: later ``$name`` are Virtuoso's to fill, without a warning."""
        self._stored.add(name)

    def runtime_variable(self, node: Scalar) -> str | None:
        """``name`` when the whole value is ``$name`` and this file does not define it (Virtuoso does)."""
        match = _WHOLE_DOLLAR.fullmatch(node.text)
        if match is None or match.group(1) in self._values:
            return None
        self._note_runtime(match.group(1), node)
        return match.group(1)

    def text(self, node: Scalar, *, url: bool = False, dollar: bool = True) -> str:
        """The scalar's text with every reference this file can fill in filled in (``dollar=False``:
        ``{{name}}`` only, for JavaScript, where ``$`` belongs to the script)."""

        def fill(match: re.Match[str]) -> str:
            name = match.group("template")
            if name is not None:
                return self._required(name, match.group(0), node)
            name = match.groupdict().get("placeholder")
            if name is not None:
                return self._required(name, match.group(0), node, placeholder=True)
            name = match.group("dollar")
            if not dollar:
                return match.group(0)
            value = self._values.get(name)
            if value is None:
                self._note_runtime(name, node)
                return match.group(0)
            return self._single(name, value, node)

        return (_URL_REFERENCE if url else _REFERENCE).sub(fill, node.text)

    def _required(self, name: str, written: str, node: Scalar, *, placeholder: bool = False) -> str:
        value = self._values.get(name)
        if value is None:
            what = "is a placeholder with no value" if placeholder else "is not defined"
            raise StepProblem(
                node.line,
                node.path,
                f"{written} {what}: pass --var {name}=VALUE, "
                f"or define {name} in the file's variables (or data)",
            )
        return self._single(name, value, node)

    @staticmethod
    def _single(name: str, value: Value, node: Scalar) -> str:
        if isinstance(value, list):
            raise StepProblem(node.line, node.path, f"{name} is a list; a list is used as a loop's over:")
        return value

    def _note_runtime(self, name: str, node: Scalar) -> None:
        if name in self._stored or name in self._warned:
            return
        self._warned.add(name)
        self._warn(
            node.line,
            node.path,
            f"${name} is not defined in the file or by --var: it is sent as written, for Virtuoso to fill in "
            "at run time (from a stored, environment or test-data variable)",
        )
